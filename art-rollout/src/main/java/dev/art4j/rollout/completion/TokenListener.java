package dev.art4j.rollout.completion;

/**
 * Hears each token of a request as the engine samples it, for streaming: called on the engine's
 * scheduler thread, in order, before the request's future completes, so it must only hand the
 * token on (a queue) and return. The {@link Completion} the future brings stays the record of
 * what was sampled; a source that cannot stream calls no listener at all.
 */
@FunctionalInterface
public interface TokenListener {

  /**
   * Token {@code index} (0-based) of the completion and its log-probability; {@code topIds} and
   * {@code topLogprobs} are the {@link SamplingParams#topLogprobs()} most likely ids at that step,
   * most likely first, with their log-probabilities under the same distribution (empty when
   * none were asked for). The arrays are the listener's to keep.
   */
  void onToken(int index, int token, float logprob, int[] topIds, float[] topLogprobs);
}
