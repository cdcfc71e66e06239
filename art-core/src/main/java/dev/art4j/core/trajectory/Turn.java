package dev.art4j.core.trajectory;

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
 */
public record Turn(
    @JsonProperty("prompt_ids") int[] promptIds,
    @JsonProperty("sampled_ids") int[] sampledIds,
    @JsonProperty("logprobs") float[] logprobs) {

  public Turn {
    Objects.requireNonNull(promptIds, "promptIds");
    Objects.requireNonNull(sampledIds, "sampledIds");
    Objects.requireNonNull(logprobs, "logprobs");
    if (logprobs.length != sampledIds.length) {
      throw new IllegalArgumentException(
          "turn has " + sampledIds.length + " sampled ids but " + logprobs.length + " logprobs");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Turn t
        && Arrays.equals(promptIds, t.promptIds)
        && Arrays.equals(sampledIds, t.sampledIds)
        && Arrays.equals(logprobs, t.logprobs);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(promptIds), Arrays.hashCode(sampledIds), Arrays.hashCode(logprobs));
  }

  @Override
  public String toString() {
    return "Turn[prompt=" + promptIds.length + " ids, sampled=" + sampledIds.length + " ids]";
  }
}
