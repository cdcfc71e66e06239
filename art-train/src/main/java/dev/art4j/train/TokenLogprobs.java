package dev.art4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Embedding;
import ai.djl.ndarray.types.SparseFormat;
import dev.art4j.core.model.Transformer;

/**
 * Log-probs of chosen tokens under a model's LM head, without keeping any (K, vocab) array
 * alive. For each row k with final hidden state {@code h_k} (D), logits {@code z_k = W h_k}
 * (W the (V, D) head), target {@code t_k} and temperature {@code T_k} (the one the token was
 * sampled at, so that the ratio to the sampling-time log-prob is 1 on-policy):
 *
 * <pre>
 *   lp_k        = log_softmax(z_k / T_k)[t_k]
 *   d lp_k/d h_k = g_k = (W[t_k] - softmax(z_k / T_k) W) / T_k       (D)
 * </pre>
 *
 * Rows go through the head a chunk at a time outside the autograd graph (the chunk's logits,
 * log-softmax and softmax are freed before the next chunk), which gives {@code lp} and {@code g};
 * the gradient then enters the graph through a surrogate whose value is exactly {@code lp} and
 * whose gradient with respect to {@code h} is exactly {@code g}:
 *
 * <pre>
 *   lp~ = stop(lp) + sum_d (h - stop(h)) * stop(g)
 * </pre>
 *
 * ({@code h - stop(h)} is exactly 0, and {@code lp_k} depends on {@code h_k} alone, so the
 * Jacobian is row by row). The autograd path this replaces kept the (K, V) fp32 logits, their
 * log-softmax and, in backward, two (K, V) gradients: 4 x 272 MB per 448 trained tokens of a
 * 152k vocabulary. The work is the same: one head matmul forward, one {@code softmax W} matmul in
 * place of backward's.
 */
final class TokenLogprobs {

  /** Elements of one chunk's (rows, vocab) logits: 64 MB in fp32. */
  static final long CHUNK_ELEMENTS = 1L << 24;

  private TokenLogprobs() {}

  /**
   * @param hidden (K, D) final hidden states, in the graph when gradients are wanted
   * @param targets (K, 1) int64 token ids
   * @return (K) fp32 log-probs, attached to {@code hidden}'s manager
   */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets) {
    return of(model, hidden, targets, null, defaultChunkRows(model), true);
  }

  /**
   * {@link #of(Transformer, NDArray, NDArray)} at per-row temperatures.
   *
   * @param temperature (K, 1) fp32, or null for temperature 1 everywhere
   */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets, NDArray temperature) {
    return of(model, hidden, targets, temperature, defaultChunkRows(model), true);
  }

  /**
   * The values of {@link #of(Transformer, NDArray, NDArray, NDArray)} only, for passes that never
   * back-propagate (the reference model's): no {@code g}, so no {@code softmax W} matmul.
   */
  static NDArray valuesOf(Transformer model, NDArray hidden, NDArray targets, NDArray temperature) {
    return of(model, hidden, targets, temperature, defaultChunkRows(model), false);
  }

  static NDArray valuesOf(Transformer model, NDArray hidden, NDArray targets) {
    return valuesOf(model, hidden, targets, null);
  }

  private static long defaultChunkRows(Transformer model) {
    return Math.max(1, CHUNK_ELEMENTS / model.config().vocabSize());
  }

  /** {@link #of(Transformer, NDArray, NDArray)} with {@code chunkRows} rows per chunk. */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets, long chunkRows) {
    return of(model, hidden, targets, null, chunkRows, true);
  }

  /** Every variant: {@code chunkRows} rows per chunk, with or without the gradient surrogate. */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets, NDArray temperature, long chunkRows,
      boolean gradient) {
    long k = hidden.getShape().get(0);
    NDArray head = model.weights().lmHead(); // (V, D)
    NDArray h = hidden.stopGradient(); // (K, D), no graph
    NDList lps = new NDList();
    NDList grads = new NDList();
    for (long from = 0; from < k; from += chunkRows) {
      long to = Math.min(k, from + chunkRows);
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDIndex rows = new NDIndex("{}:{}", from, to);
        NDArray t = targets.get(rows); // (c, 1)
        NDArray z = model.logits(h.get(rows)); // (c, V) fp32
        NDArray temp = temperature == null ? null : temperature.get(rows); // (c, 1)
        if (temp != null) {
          z = z.div(temp);
        }
        NDArray logSoftmax = z.logSoftmax(-1); // (c, V)
        NDArray lp = logSoftmax.gather(t, 1).reshape(-1); // (c)
        NDScope.unregister(lp);
        lps.add(lp);
        if (gradient) {
          NDArray probs = logSoftmax.exp().toType(head.getDataType(), false); // (c, V)
          NDArray own = Embedding.embedding(t.reshape(-1), head, SparseFormat.DENSE).singletonOrThrow(); // (c, D)
          NDArray g = own.sub(probs.matMul(head)); // (c, D)
          if (temp != null) {
            g = g.div(temp.toType(g.getDataType(), false));
          }
          NDScope.unregister(g);
          grads.add(g);
        }
      }
    }
    NDArray lp = concat(lps); // (K)
    if (!gradient) {
      return lp;
    }
    // Always the surrogate, even without a gradient collector: DJL's hasGradient() reported
    // false for these rows in a training forward, and the (K, D) ops cost nothing.
    NDArray g = concat(grads); // (K, D)
    NDArray zero = hidden.sub(h); // (K, D), exactly 0, gradient identity
    NDArray surrogate = zero.mul(g).sum(new int[] {-1}).toType(DataType.FLOAT32, false); // (K)
    return surrogate.add(lp);
  }

  private static NDArray concat(NDList parts) {
    if (parts.size() == 1) {
      return parts.head();
    }
    NDArray out = NDArrays.concat(parts, 0);
    parts.close();
    return out;
  }
}
