package dev.art4j.rollout.completion;

import java.util.Arrays;
import java.util.Objects;

/**
 * What the engine sampled for one request.
 *
 * @param tokens       the sampled ids, in order (a matched stop token id is included; text of a
 *                     stop string is included up to the token that completed it)
 * @param logprobs     per sampled id, {@code log p(token)} under the distribution it was drawn
 *                     from (after temperature, before top-k/top-p truncation)
 * @param logprobTemperature the temperature {@code T} of that distribution,
 *                     {@code log softmax(z / T)}: the sampling temperature, or 1 for greedy
 *                     decoding (whose log-probs are taken at temperature 1). A trainer must
 *                     divide its logits by the same {@code T} for its importance ratio to be 1
 *                     on-policy.
 * @param finishReason why sampling ended
 * @param promptTokens length of the prompt
 * @param queueMillis  time from submit to the start of prefill
 * @param prefillMillis time spent in the prefill that included this request
 * @param decodeMillis time from the end of prefill to the last token
 */
public record Completion(
    int[] tokens,
    float[] logprobs,
    float logprobTemperature,
    FinishReason finishReason,
    int promptTokens,
    double queueMillis,
    double prefillMillis,
    double decodeMillis) {

  public Completion {
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(logprobs, "logprobs");
    Objects.requireNonNull(finishReason, "finishReason");
    if (tokens.length != logprobs.length) {
      throw new IllegalArgumentException(tokens.length + " tokens but " + logprobs.length + " logprobs");
    }
    if (!(logprobTemperature > 0) || Float.isInfinite(logprobTemperature)) {
      throw new IllegalArgumentException("logprobTemperature must be finite and > 0, got " + logprobTemperature);
    }
  }

  /** A completion whose log-probs are at temperature 1 (greedy decoding or {@code T = 1}). */
  public Completion(int[] tokens, float[] logprobs, FinishReason finishReason, int promptTokens,
      double queueMillis, double prefillMillis, double decodeMillis) {
    this(tokens, logprobs, 1f, finishReason, promptTokens, queueMillis, prefillMillis, decodeMillis);
  }

  /** The temperature whose log-probs a request with {@code params} returns. */
  public static float logprobTemperature(SamplingParams params) {
    return params.temperature() == 0 ? 1f : (float) params.temperature();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Completion c
        && Arrays.equals(tokens, c.tokens)
        && Arrays.equals(logprobs, c.logprobs)
        && logprobTemperature == c.logprobTemperature
        && finishReason == c.finishReason
        && promptTokens == c.promptTokens;
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(tokens), Arrays.hashCode(logprobs), logprobTemperature, finishReason, promptTokens);
  }

  @Override
  public String toString() {
    return "Completion[" + tokens.length + " tokens, " + finishReason.wireName() + "]";
  }
}
