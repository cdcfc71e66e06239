package dev.art4j.rollout.completion;

import java.util.concurrent.CompletableFuture;

/**
 * Anything that continues a token sequence: the {@code InferenceEngine}, or a scripted source
 * in tests. The agent loop depends only on this, so its token bookkeeping is the same whoever
 * produced the tokens.
 */
@FunctionalInterface
public interface CompletionSource {

  /**
   * Continues {@code promptIds}.
   *
   * @return a future of the sampled tokens; fails with {@link IllegalArgumentException} for a bad
   *     request (empty prompt, id outside the vocabulary, prompt over the context)
   */
  CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params);

  /**
   * {@link #submit(int[], SamplingParams)}, telling {@code listener} each token as it is sampled.
   * The default streams nothing: the tokens arrive with the completed future. Cancelling the
   * future abandons the request.
   */
  default CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, TokenListener listener) {
    return submit(promptIds, params);
  }
}
