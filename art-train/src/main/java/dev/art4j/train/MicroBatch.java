package dev.art4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.art4j.core.model.CheckpointedForward;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Transformer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A group of sequences that go through one forward/backward pass together, right-padded to the
 * longest. Sequences are sorted by length before they are cut into micro-batches, so padding
 * stays small; a micro-batch holds at most {@code tokenBudget} slots (rows x padded length),
 * except a single sequence longer than the budget, which goes alone.
 *
 * <p>Padded rather than packed: packing several sequences into one row needs a block-diagonal
 * attention mask, which the model's (B, S) key mask cannot express; with length sorting the
 * padding overhead is measured in the {@code padding_fraction} metric.
 */
final class MicroBatch {

  final List<Sample> rows;
  final int length; // L: padded input length

  private MicroBatch(List<Sample> rows) {
    this.rows = rows;
    this.length = rows.stream().mapToInt(Sample::inputLength).max().orElse(0);
  }

  /** Cuts {@code samples} into micro-batches of at most {@code tokenBudget} slots each. */
  static List<MicroBatch> plan(List<Sample> samples, int tokenBudget) {
    List<Sample> sorted = new ArrayList<>(samples);
    sorted.sort(Comparator.comparingInt(Sample::inputLength).reversed());
    List<MicroBatch> out = new ArrayList<>();
    List<Sample> current = new ArrayList<>();
    int longest = 0;
    for (Sample s : sorted) {
      // sorted descending: the first row of a batch is its longest
      int l = current.isEmpty() ? s.inputLength() : longest;
      if (!current.isEmpty() && (long) (current.size() + 1) * l > tokenBudget) {
        out.add(new MicroBatch(current));
        current = new ArrayList<>();
      }
      if (current.isEmpty()) {
        longest = s.inputLength();
      }
      current.add(s);
    }
    if (!current.isEmpty()) {
      out.add(new MicroBatch(current));
    }
    return out;
  }

  /** Padded slots ({@code rows * length}). */
  long slots() {
    return (long) rows.size() * length;
  }

  /** Real (non-padding) input tokens. */
  long realTokens() {
    return rows.stream().mapToLong(Sample::inputLength).sum();
  }

  /** Trained tokens (K). */
  int trainedTokens() {
    return rows.stream().mapToInt(Sample::count).sum();
  }

  /** The arrays of this micro-batch, created in {@code m}. */
  Tensors tensors(NDManager m, boolean segments) {
    int b = rows.size();
    int l = length;
    int k = trainedTokens();
    long[] ids = new long[b * l];
    long[] pos = new long[b * l];
    long[] mask = new long[b * l];
    long[] index = new long[k];
    long[] targets = new long[k];
    float[] old = new float[k];
    float[] temperature = new float[k];
    boolean tempered = false;
    float[] adv = new float[k];
    float[] w = new float[k];
    float[] seg = segments ? new float[b * k] : null;
    float[] seqAdv = new float[b];
    float[] seqW = new float[b];
    float[] inv = new float[b];
    int j = 0;
    for (int r = 0; r < b; r++) {
      Sample s = rows.get(r);
      int n = s.inputLength();
      for (int t = 0; t < l; t++) {
        ids[r * l + t] = t < n ? s.ids()[t] : 0;
        pos[r * l + t] = t;
        mask[r * l + t] = t < n ? 1 : 0;
      }
      for (int i = 0; i < s.count(); i++) {
        int t = s.positions()[i];
        index[j] = (long) r * l + (t - 1); // hidden state at t-1 predicts ids[t]
        targets[j] = s.ids()[t];
        old[j] = s.oldLogprobs()[i];
        temperature[j] = s.temperatures()[i];
        tempered |= temperature[j] != 1f;
        adv[j] = s.advantage();
        w[j] = s.weights()[i];
        if (seg != null) {
          seg[r * k + j] = 1f;
        }
        j++;
      }
      seqAdv[r] = s.advantage();
      seqW[r] = s.seqWeight();
      inv[r] = 1f / s.count();
    }
    return new Tensors(
        m.create(ids, new Shape(b, l)), m.create(pos, new Shape(b, l)), m.create(mask, new Shape(b, l)),
        m.create(index), m.create(targets, new Shape(k, 1)),
        tempered ? m.create(temperature, new Shape(k, 1)) : null,
        m.create(old), m.create(adv), m.create(w),
        seg == null ? null : m.create(seg, new Shape(b, k)),
        m.create(seqAdv, new Shape(b, 1)), m.create(seqW, new Shape(b, 1)), m.create(inv, new Shape(b, 1)));
  }

  /**
   * @param inputIds     (B, L) int64, right-padded
   * @param positionIds  (B, L) int64
   * @param attention    (B, L) int64, 1 real, 0 padding
   * @param index        (K) int64, flat row of the hidden state that predicts each trained token
   * @param targets      (K, 1) int64, the trained token ids
   * @param temperature  (K, 1) the temperature each token was sampled at, or null when all are 1
   * @param oldLogp      (K) sampling-time log-probs
   * @param advantage    (K) the sequence advantage of each token
   * @param weight       (K) aggregation weight of each token
   * @param segments     (B, K) token-to-sequence membership, or null
   * @param seqAdvantage (B, 1)
   * @param seqWeight    (B, 1)
   * @param invCount     (B, 1)
   */
  record Tensors(NDArray inputIds, NDArray positionIds, NDArray attention, NDArray index, NDArray targets,
      NDArray temperature, NDArray oldLogp, NDArray advantage, NDArray weight, NDArray segments, NDArray seqAdvantage,
      NDArray seqWeight, NDArray invCount) {

    /**
     * Log-probs (K) of the trained tokens under {@code model} with {@code adapter} (null = base).
     * Only the K trained positions go through the LM head, and that a chunk of rows at a time
     * ({@link TokenLogprobs}): with a 150k vocabulary, (K, vocab) logits and their gradients
     * would dwarf the rest of the step.
     */
    NDArray logprobs(Transformer model, Lora adapter) {
      return logprobs(model, hidden(model, adapter));
    }

    /** The final hidden states (B, L, D) of these sequences under the adapter. */
    NDArray hidden(Transformer model, Lora adapter) {
      return model.hidden(inputIds, positionIds, attention, null, adapter);
    }

    /**
     * Log-probs (K) of the trained tokens from the final hidden states (B, L, D), each at the
     * temperature its token was sampled at: {@code log softmax(z / T)[t]}, the distribution the
     * sampling-time log-prob was taken from.
     */
    NDArray logprobs(Transformer model, NDArray hidden) {
      return TokenLogprobs.of(model, trained(hidden), targets, temperature); // (K)
    }

    /** The rows (K, D) of the trained positions of the final hidden states (B, L, D). */
    private NDArray trained(NDArray hidden) {
      return hidden.reshape(-1, hidden.getShape().get(2)).get(index);
    }

    /**
     * The forward of {@link #logprobs} with activation checkpointing: call outside the gradient
     * collector, then {@code logprobs(model, forward.hidden())} and {@code forward.backward} inside.
     */
    CheckpointedForward checkpointed(Transformer model, Lora adapter, int layers, boolean selective) {
      return model.checkpointed(inputIds, positionIds, attention, adapter, layers, selective); // no graph yet
    }

    /**
     * {@link #logprobs} of the base model (adapter off) without gradients, computed in a
     * manager of its own and closed at once: every intermediate of a DJL forward lives as long
     * as the manager of its input ids, and only the (K) result is needed afterwards.
     *
     * @return (K), attached to {@code parent}
     */
    NDArray referenceLogprobs(Transformer model, NDManager parent) {
      try (NDManager r = parent.newSubManager()) {
        NDArray ids = inputIds.duplicate();
        ids.attach(r);
        NDArray hidden = model.hidden(ids, positionIds, attention, null, null); // (B, L, D)
        NDArray out = TokenLogprobs.valuesOf(model, trained(hidden), targets, temperature); // (K)
        out.attach(parent);
        return out;
      }
    }

    /** The arrays as the loss wants them. */
    PolicyLoss.Inputs lossInputs(NDArray newLogp, NDArray refLogp) {
      return new PolicyLoss.Inputs(newLogp, oldLogp, advantage, weight, segments, seqAdvantage, seqWeight,
          invCount, refLogp);
    }
  }
}
