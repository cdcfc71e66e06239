package dev.art4j.train;

/**
 * One sequence prepared for training: its token ids and, for each position whose token is
 * trained on (a sampled/assistant token, never position 0), the target position, the
 * sampling-time log-prob and the aggregation weight.
 *
 * @param ids         the whole sequence
 * @param positions   ascending positions {@code t >= 1} whose token {@code ids[t]} is predicted from {@code ids[..t)}
 * @param oldLogprobs sampling-time log-prob of each position's token (GRPO; zeros for SFT)
 * @param temperatures the temperature each old log-prob is at; the new log-prob of that position
 *                    is taken from the logits divided by it (1 for SFT)
 * @param weights     aggregation weight of each position's token loss
 * @param advantage   the sequence's advantage (GRPO; 0 for SFT)
 * @param seqWeight   the sequence's aggregation weight (GSPO)
 */
record Sample(int[] ids, int[] positions, float[] oldLogprobs, float[] temperatures, float[] weights, float advantage,
    float seqWeight) {

  /** A sample whose log-probs are all at temperature 1. */
  Sample(int[] ids, int[] positions, float[] oldLogprobs, float[] weights, float advantage, float seqWeight) {
    this(ids, positions, oldLogprobs, ones(positions.length), weights, advantage, seqWeight);
  }

  private static float[] ones(int n) {
    float[] t = new float[n];
    java.util.Arrays.fill(t, 1f);
    return t;
  }

  /** Tokens fed to the model: everything before the last trained position. */
  int inputLength() {
    return positions[positions.length - 1];
  }

  int count() {
    return positions.length;
  }

  /**
   * Checks every id against the vocabulary (an out-of-range id would otherwise fail deep inside
   * the forward pass, half-way through a step).
   *
   * @param what names the sequence in the error ("group 2 trajectory 5")
   */
  static void checkIds(int[] ids, int vocabSize, String what) {
    for (int t = 0; t < ids.length; t++) {
      if (ids[t] < 0 || ids[t] >= vocabSize) {
        throw new IllegalArgumentException(what + ": token id " + ids[t] + " at position " + t
            + " is outside the model's vocabulary [0, " + vocabSize + ")");
      }
    }
  }

  /** Positions {@code t >= 1} with {@code sampled[t]}. */
  static int[] trainedPositions(boolean[] sampled) {
    int n = 0;
    for (int t = 1; t < sampled.length; t++) {
      n += sampled[t] ? 1 : 0;
    }
    int[] out = new int[n];
    int j = 0;
    for (int t = 1; t < sampled.length; t++) {
      if (sampled[t]) {
        out[j++] = t;
      }
    }
    return out;
  }
}
