package dev.art4j.core.trajectory;

/**
 * A trajectory flattened for training: all token ids of the conversation, which of them the
 * model sampled (the only positions a loss is taken on), and the sampling-time log-prob of
 * each sampled position ({@code NaN} elsewhere).
 *
 * @param ids      (seq) token ids
 * @param sampled  (seq) true where the id was sampled by the policy
 * @param logprobs (seq) log-prob at sampling time where {@code sampled}, NaN elsewhere
 */
public record TokenSequence(int[] ids, boolean[] sampled, float[] logprobs) {

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
