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
 *   lp_k        = log_softmax(z_k / T_k)[t_k] = W[t_k] h_k / T_k - logsumexp(z_k / T_k)
 *   d lp_k/d h_k = g_k = (W[t_k] - softmax(z_k / T_k) W) / T_k       (D)
 * </pre>
 *
 * The head is read a vocabulary block at a time, for a whole chunk of rows at once, outside the
 * autograd graph, with an online softmax (as flash attention does over keys): per row a running
 * maximum {@code m}, sum {@code s} and {@code a = sum_v exp(z_v - m) W[v]}, rescaled by
 * {@code exp(m_old - m_new)} when a block raises the maximum; at the end
 * {@code logsumexp = m + log s} and {@code softmax W = a / s}. Each block's two products are
 * (rows, D) x (D, block) and (rows, block) x (block, D): wide on both sides, where chunks of a few
 * rows against the whole vocabulary ran at two thirds of the BLAS rate (the head's two products
 * are most of this class's time: 0.49 TFLOP per 896 trained tokens of a 152k vocabulary).
 *
 * <p>The gradient then enters the graph through a surrogate whose value is exactly {@code lp}
 * and whose gradient with respect to {@code h} is exactly {@code g}:
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

  /** Elements of one block's (rows, vocabulary block) logits: 64 MB in fp32. */
  static final long CHUNK_ELEMENTS = 1L << 24;

  /** The narrowest vocabulary block the default chunking makes (it takes fewer rows instead). */
  private static final long MIN_VOCAB_BLOCK = 4096;

  private TokenLogprobs() {}

  /**
   * @param hidden (K, D) final hidden states, in the graph when gradients are wanted
   * @param targets (K, 1) int64 token ids
   * @return (K) fp32 log-probs, attached to {@code hidden}'s manager
   */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets) {
    return of(model, hidden, targets, null);
  }

  /**
   * {@link #of(Transformer, NDArray, NDArray)} at per-row temperatures.
   *
   * @param temperature (K, 1) fp32, or null for temperature 1 everywhere
   */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets, NDArray temperature) {
    return defaultChunking(model, hidden, targets, temperature, true);
  }

  /**
   * The values of {@link #of(Transformer, NDArray, NDArray, NDArray)} only, for passes that never
   * back-propagate (the reference model's): no {@code a}, so no {@code softmax W} matmul.
   */
  static NDArray valuesOf(Transformer model, NDArray hidden, NDArray targets, NDArray temperature) {
    return defaultChunking(model, hidden, targets, temperature, false);
  }

  static NDArray valuesOf(Transformer model, NDArray hidden, NDArray targets) {
    return valuesOf(model, hidden, targets, null);
  }

  /** All rows up to 4096 at a time, vocabulary blocks of {@link #CHUNK_ELEMENTS} logits. */
  private static NDArray defaultChunking(Transformer model, NDArray hidden, NDArray targets, NDArray temperature,
      boolean gradient) {
    long rows = Math.max(1, Math.min(hidden.getShape().get(0), CHUNK_ELEMENTS / MIN_VOCAB_BLOCK));
    long block = Math.max(1, Math.min(model.config().vocabSize(), CHUNK_ELEMENTS / rows));
    return of(model, hidden, targets, temperature, rows, block, gradient);
  }

  /**
   * Every variant: {@code chunkRows} rows at a time, the head {@code vocabBlock} tokens at a time,
   * with or without the gradient surrogate.
   */
  static NDArray of(Transformer model, NDArray hidden, NDArray targets, NDArray temperature, long chunkRows,
      long vocabBlock, boolean gradient) {
    long k = hidden.getShape().get(0);
    NDArray head = model.weights().lmHead(); // (V, D)
    long vocab = head.getShape().get(0);
    NDArray h = hidden.stopGradient(); // (K, D), no graph
    NDList lps = new NDList();
    NDList grads = new NDList();
    for (long from = 0; from < k; from += chunkRows) {
      long to = Math.min(k, from + chunkRows);
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDIndex rows = new NDIndex("{}:{}", from, to);
        NDArray t = targets.get(rows); // (c, 1)
        NDArray temp = temperature == null ? null : temperature.get(rows); // (c, 1)
        NDArray x = h.get(rows).toType(DataType.FLOAT32, false); // (c, D)
        if (temp != null) {
          x = x.div(temp); // z / T = W (h / T)
        }
        NDArray own = Embedding.embedding(t.reshape(-1), head, SparseFormat.DENSE).singletonOrThrow()
            .toType(DataType.FLOAT32, false); // (c, D) W[t]
        NDArray target = own.mul(x).sum(new int[] {-1}, true); // (c, 1) z[t] / T
        NDArray max = null; // (c, 1) m
        NDArray sum = null; // (c, 1) s
        NDArray weighted = null; // (c, D) a
        for (long v = 0; v < vocab; v += vocabBlock) {
          // a view in the chunk's manager: the model's own is capped
          NDArray w = head.get(x.getManager(), new NDIndex("{}:{}", v, Math.min(vocab, v + vocabBlock)))
              .toType(DataType.FLOAT32, false); // (b, D)
          NDArray z = x.matMul(w.transpose()); // (c, b)
          NDArray blockMax = z.max(new int[] {-1}, true); // (c, 1)
          NDArray newMax = max == null ? blockMax : max.maximum(blockMax);
          NDArray e = z.subi(newMax).exp(); // (c, b) exp(z - m)
          z.close();
          NDArray blockSum = e.sum(new int[] {-1}, true);
          NDArray blockWeighted = gradient ? e.matMul(w) : null; // (c, D)
          e.close();
          if (max == null) {
            sum = blockSum;
            weighted = blockWeighted;
          } else {
            NDArray rescale = max.sub(newMax).exp(); // (c, 1) exp(m_old - m_new)
            sum = sum.mul(rescale).add(blockSum);
            weighted = gradient ? weighted.mul(rescale).add(blockWeighted) : null;
          }
          max = newMax;
        }
        NDArray lp = target.sub(max).sub(sum.log()).reshape(-1); // (c)
        NDScope.unregister(lp);
        lps.add(lp);
        if (gradient) {
          NDArray g = own.sub(weighted.div(sum)); // (c, D)
          if (temp != null) {
            g = g.div(temp);
          }
          g = g.toType(hidden.getDataType(), false);
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
