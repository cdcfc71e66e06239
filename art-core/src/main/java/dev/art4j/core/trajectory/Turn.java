package dev.art4j.core.trajectory;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Objects;

/**
 * One assistant turn, token-in/token-out: the exact ids the model was given and the ids it
 * sampled, with the log-prob of each sampled id under the distribution it was drawn from.
 * The next turn's {@code promptIds} start with this turn's {@code promptIds + sampledIds}.
 *
 * @param promptIds  every token the model saw before sampling (the whole conversation so far)
 * @param sampledIds the tokens the model produced, in order
 * @param logprobs   {@code log p(sampledIds[i] | promptIds, sampledIds[..i])} at sampling time
 * @param temperature the temperature {@code T} of those log-probs, {@code log softmax(z / T)}: the
 *                   sampling temperature, 1 for greedy decoding. The trainer divides its logits by
 *                   the same {@code T}, so that {@code pi_new / pi_old = 1} on-policy at any
 *                   temperature.
 */
public record Turn(
    @JsonProperty("prompt_ids") int[] promptIds,
    @JsonProperty("sampled_ids") int[] sampledIds,
    @JsonProperty("logprobs") float[] logprobs,
    @JsonProperty("temperature") float temperature) {

  public Turn {
    Objects.requireNonNull(promptIds, "promptIds");
    Objects.requireNonNull(sampledIds, "sampledIds");
    Objects.requireNonNull(logprobs, "logprobs");
    if (logprobs.length != sampledIds.length) {
      throw new IllegalArgumentException(
          "turn has " + sampledIds.length + " sampled ids but " + logprobs.length + " logprobs");
    }
    if (!(temperature > 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("turn temperature must be finite and > 0, got " + temperature);
    }
  }

  /** A turn whose log-probs are at temperature 1. */
  public Turn(int[] promptIds, int[] sampledIds, float[] logprobs) {
    this(promptIds, sampledIds, logprobs, 1f);
  }

  /** Reads turns written before the temperature was recorded as temperature-1 turns. */
  @JsonCreator
  static Turn fromJson(@JsonProperty("prompt_ids") int[] promptIds, @JsonProperty("sampled_ids") int[] sampledIds,
      @JsonProperty("logprobs") float[] logprobs, @JsonProperty("temperature") Float temperature) {
    return new Turn(promptIds, sampledIds, logprobs, temperature == null ? 1f : temperature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Turn t
        && Arrays.equals(promptIds, t.promptIds)
        && Arrays.equals(sampledIds, t.sampledIds)
        && Arrays.equals(logprobs, t.logprobs)
        && temperature == t.temperature;
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(promptIds), Arrays.hashCode(sampledIds), Arrays.hashCode(logprobs), temperature);
  }

  @Override
  public String toString() {
    return "Turn[prompt=" + promptIds.length + " ids, sampled=" + sampledIds.length + " ids]";
  }
}
