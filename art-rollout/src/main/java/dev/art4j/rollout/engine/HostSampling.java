package dev.art4j.rollout.engine;

import java.util.Set;

/**
 * One output row sampled on the host: the request's logit processing ({@link LogitsProcessor}:
 * logit bias, penalties, min tokens), then the {@link Sampler}, with the top log-probs its
 * listener asked for. The Java backend samples every row so; the tensor backend the rows that
 * {@link DeviceSampler#needsHost} sends to the host.
 */
final class HostSampling {

  private HostSampling() {}

  /**
   * @param logits   the row's logits at {@code [off, off + vocab)}, processed in place
   * @param eos      the engine's end-of-sequence ids (min tokens holds them back)
   * @param logprob  receives the sampled token's log-prob at {@code [0]}
   * @param topIds   receives the most likely ids (its length is how many), may be empty
   * @param topLps   receives their log-probs
   * @return the sampled id
   */
  static int sample(Sampler sampler, float[] logits, int off, int vocab, Sequence q, Set<Integer> eos,
      float[] logprob, int[] topIds, float[] topLps) {
    if (q.params.processesLogits()) {
      LogitsProcessor.apply(logits, off, vocab, q.params, q.tokens, q.prompt.length, q.length, eos);
    }
    return sampler.sample(logits, off, vocab, q.params, q.rng, logprob, topIds, topLps);
  }
}
