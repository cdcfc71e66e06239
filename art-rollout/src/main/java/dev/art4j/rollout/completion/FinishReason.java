package dev.art4j.rollout.completion;

/** Why a completion ended. */
public enum FinishReason {
  /** An end-of-sequence id, a stop token id or a stop string was produced. */
  STOP,
  /** {@code maxNewTokens} was reached (or the model's context ran out). */
  LENGTH;

  /** OpenAI's spelling: {@code "stop"} or {@code "length"}. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
