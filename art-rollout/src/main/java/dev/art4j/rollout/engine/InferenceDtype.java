package dev.art4j.rollout.engine;

/**
 * How the {@link InferenceEngine} holds the base model's projection and LM-head weights while it
 * samples. A decode step reads every weight once, so its speed follows the bytes per weight.
 *
 * <ul>
 *   <li>{@link #BF16}: the engine keeps its own copy of those weights in bfloat16 (the upper 16
 *       bits of the fp32 value, rounded to nearest even), made once when the engine is built, off
 *       the Java heap. Its kernels widen each weight to fp32 in registers ({@code bits << 16}) and
 *       accumulate in fp32; the embedding, activations, KV cache, norms, LoRA adapter and logits
 *       stay fp32. Half the bytes per step of {@link #FP32}, for an extra half of the weights'
 *       fp32 size in memory (the trainer keeps its fp32 weights). A weight stored in fp32 loses
 *       its last 16 mantissa bits (relative error up to 2^-8): on the fixture checkpoints greedy
 *       tokens are unchanged and log-probs move by up to 0.028. A checkpoint stored in bf16
 *       loses nothing.
 *   <li>{@link #FP32}: the engine reads the model's fp32 weights in place (no copy) and computes
 *       what the core {@code Transformer} computes, to float rounding.
 *   <li>{@link #AUTO} (the default): {@link #BF16} when every one of those weights is a bf16
 *       value already (a checkpoint stored in bf16, as most released models are: nothing is
 *       lost), {@link #FP32} otherwise. Deciding reads the weights once when the engine is built.
 * </ul>
 *
 * <p>Either way the trainer's importance ratio is taken against the log-probs the engine sampled
 * from, so training stays on-policy with respect to what was sampled.
 */
public enum InferenceDtype {
  /** {@link #BF16} where that loses nothing, else {@link #FP32}. */
  AUTO,
  /** bfloat16 weights, fp32 arithmetic. */
  BF16,
  /** fp32 weights read in place. */
  FP32;

  /** Parses {@code auto}, {@code bf16} or {@code fp32} (any case); a clear error otherwise. */
  public static InferenceDtype parse(String s) {
    for (InferenceDtype d : values()) {
      if (d.name().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return d;
      }
    }
    throw new IllegalArgumentException("inference dtype must be auto, bf16 or fp32, got '" + s + "'");
  }

  /** Bytes per weight as the engine holds it ({@link #AUTO} has none until resolved). */
  public int bytes() {
    return switch (this) {
      case BF16 -> 2;
      case FP32 -> 4;
      case AUTO -> throw new IllegalStateException("auto is resolved to bf16 or fp32 when an engine is built");
    };
  }

  /** {@code auto}, {@code bf16} or {@code fp32}. */
  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
