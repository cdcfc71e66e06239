package dev.art4j.core.trajectory;

/**
 * A trajectory flattened for training: all token ids of the conversation, which of them the
 * model sampled (the only positions a loss is taken on), and the sampling-time log-prob of
 * each sampled position ({@code NaN} elsewhere).
 *
 * @param ids      (seq) token ids
 * @param sampled  (seq) true where the id was sampled by the policy
 * @param logprobs (seq) log-prob at sampling time where {@code sampled}, NaN elsewhere
 * @param temperatures (seq) the temperature those log-probs are at (see {@link Turn#temperature()})
 *                 where {@code sampled}, 1 elsewhere
 */
public record TokenSequence(int[] ids, boolean[] sampled, float[] logprobs, float[] temperatures) {

  public TokenSequence {
    if (sampled.length != ids.length || logprobs.length != ids.length || temperatures.length != ids.length) {
      throw new IllegalArgumentException("token sequence arrays differ in length: " + ids.length + " ids, "
          + sampled.length + " sampled flags, " + logprobs.length + " logprobs, " + temperatures.length + " temperatures");
    }
  }

  /** A sequence whose log-probs (if any) are at temperature 1, e.g. supervised data. */
  public TokenSequence(int[] ids, boolean[] sampled, float[] logprobs) {
    this(ids, sampled, logprobs, ones(ids.length));
  }

  private static float[] ones(int n) {
    float[] t = new float[n];
    java.util.Arrays.fill(t, 1f);
    return t;
  }

  public int length() {
    return ids.length;
  }

  /** Number of sampled positions. */
  public int sampledCount() {
    int n = 0;
    for (boolean s : sampled) {
      if (s) {
        n++;
      }
    }
    return n;
  }
}
