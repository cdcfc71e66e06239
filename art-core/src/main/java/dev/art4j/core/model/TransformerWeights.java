package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The base weights of a decoder, in Hugging Face layout (linear weights are {@code (out, in)},
 * applied as {@code y = x W^T + b} by {@code torch.nn.functional.linear}, which reads the
 * transposed view without copying). All arrays live in one long-lived {@code NDManager} and
 * never require gradients; an inference engine may build its own decode path over them.
 *
 * <p>That manager is capped: an op whose first operand is one of these arrays
 * ({@code w.transpose()}, {@code embedding.get(ids)}) would attach its result to it and leak, so
 * it throws {@code IllegalStateException} instead. Put the activation first:
 * {@code Linear.linear(x, w, b)}, {@code Embedding.embedding(ids, embedding, DENSE)}.
 *
 * <p>Shapes use D = hidden, V = vocab, H = heads, Hkv = key/value heads, hd = head dim,
 * F = intermediate size.
 *
 * @param embedding (V, D)
 * @param layers one entry per decoder layer
 * @param norm final RMSNorm weight (D)
 * @param lmHead (V, D); the same array as {@code embedding} when the checkpoint ties them
 */
public record TransformerWeights(NDArray embedding, List<Layer> layers, NDArray norm, NDArray lmHead) {

  public TransformerWeights {
    layers = List.copyOf(layers);
  }

  /**
   * One decoder layer. Biases and q/k norms are null where the architecture has none.
   *
   * @param attnNorm input RMSNorm weight (D)
   * @param wq (H*hd, D)
   * @param bq (H*hd) or null
   * @param wk (Hkv*hd, D)
   * @param bk (Hkv*hd) or null
   * @param wv (Hkv*hd, D)
   * @param bv (Hkv*hd) or null
   * @param wo (D, H*hd)
   * @param bo (D) or null
   * @param qNorm per-head query RMSNorm weight (hd) or null (qwen3 only)
   * @param kNorm per-head key RMSNorm weight (hd) or null (qwen3 only)
   * @param mlpNorm post-attention RMSNorm weight (D)
   * @param wGate (F, D)
   * @param bGate (F) or null
   * @param wUp (F, D)
   * @param bUp (F) or null
   * @param wDown (D, F)
   * @param bDown (D) or null
   */
  public record Layer(
      NDArray attnNorm,
      NDArray wq, NDArray bq,
      NDArray wk, NDArray bk,
      NDArray wv, NDArray bv,
      NDArray wo, NDArray bo,
      NDArray qNorm, NDArray kNorm,
      NDArray mlpNorm,
      NDArray wGate, NDArray bGate,
      NDArray wUp, NDArray bUp,
      NDArray wDown, NDArray bDown) {}
}
