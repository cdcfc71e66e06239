package dev.art4j.rollout.engine;

import java.lang.foreign.MemorySegment;

/**
 * The inner loops of the decode step. Two implementations: {@link VectorKernels} on Java's
 * incubating Vector API (start the JVM with {@code --add-modules jdk.incubator.vector}), and
 * {@link ScalarKernels}, a plain-Java fallback used when that module is absent.
 *
 * <p>Every result for one input row is computed by the same sequence of floating-point
 * operations whatever the other rows of the batch are: a request gives bit-identical logits
 * alone or in a batch, so a seeded request samples the same tokens in any company.
 */
interface Kernels {

  /**
   * {@code y[b*yStride + r] = sum_i W[r, i] * x[b*xStride + i]} for {@code b < n} and
   * {@code r0 <= r < r1}, where {@code W} is a row-major (rows, cols) fp32 matrix in {@code w}
   * (native byte order).
   */
  void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1);

  /**
   * {@link #matmul} for a bfloat16 {@code w} in its panel layout: each weight widened to fp32 and
   * {@code y[b*yStride + r]} the fused multiply-add chain over the columns in order that
   * {@link WeightMatrix} gives, so every implementation returns the same bits. Only rows
   * {@code r0..r1-1} of {@code y} are written; the vector tiles want {@code r0} a multiple of
   * {@code 2 * WeightMatrix.PANEL} (the engine's tasks are) and leave any other range to the scalar chain.
   */
  void matmulBf16(WeightMatrix w, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1);

  /** {@code sum_i a[ao + i] * b[bo + i]} for {@code i < len}. */
  float dot(float[] a, int ao, float[] b, int bo, int len);

  /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < len}. */
  void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len);

  /**
   * Causal attention of {@code heads} query heads that share one key/value head, over positions
   * {@code 0..len-1} of a sequence's cache. For head h, with its query at {@code q[qo + h*headDim]}
   * and its output at {@code out[qo + h*headDim]}:
   *
   * <pre>
   *   s_t = (q_h . k_t) * scale           one fp32 fused multiply-add chain, d ascending
   *   p_t = e^(s_t - max s) / sum_t e^(s_t - max s)
   *   out_h = sum_t p_t v_t               t ascending
   * </pre>
   *
   * Position t lies in block {@code b = t / KvPool.BLOCK}, slot {@code t % BLOCK}: component d of
   * its key at {@code blk[b][ko[b] + d*BLOCK + slot]} (a transposed key tile), of its value at
   * {@code blk[b][vo[b] + slot*headDim + d]}. A head's result depends on its query, {@code len} and
   * the cache only, never on the other heads or rows of the step (batch invariance).
   *
   * @param scores scratch of at least {@code heads * roundUp(len, BLOCK)} floats
   */
  void attention(float[] q, int qo, int heads, int headDim, int len, float scale, float[][] blk, int[] ko, int[] vo,
      float[] out, float[] scores);

  /** {@code gate[o + i] = silu(gate[o + i]) * up[o + i]}, {@code silu(z) = z / (1 + e^-z)}. */
  void swiglu(float[] gate, float[] up, int o, int len);

  /**
   * {@code out[i] = exp((z[off + i] - max) * scale)} for {@code i < len}; returns their sum
   * (the softmax numerators and denominator).
   */
  double expShifted(float[] z, int off, int len, float max, float scale, float[] out);

  /** {@code sum_i a[off + i]} for {@code i < len} (the memory-bandwidth probe). */
  float sum(float[] a, int off, int len);

  /**
   * Runs every kernel on small inputs until the JIT has compiled it. Until then Vector API code
   * runs interpreted, allocating every vector on the heap: a first decode step over a large
   * model would otherwise make gigabytes of garbage (and run slowly).
   */
  default void warmUp() {
    int cols = 64;
    int rows = 16;
    // native, like the weights: a heap segment here would teach the JIT a second shape
    MemorySegment w = java.lang.foreign.Arena.ofAuto().allocate((long) rows * cols * 4, 64);
    int wideRows = 4 * WeightMatrix.PANEL; // every bf16 tile, the four-panel one of a single row too
    WeightMatrix wb = new WeightMatrix(java.lang.foreign.Arena.ofAuto().allocate(
        WeightMatrix.bytes(InferenceDtype.BF16, wideRows, cols), 64), InferenceDtype.BF16, wideRows, cols);
    float[] x = new float[16 * cols];
    float[] y = new float[16 * wideRows];
    // attention: 7 heads of width 64 over two blocks of keys and values
    float[] q = new float[7 * cols];
    float[] out = new float[7 * cols];
    float[] scores = new float[7 * 2 * KvPool.BLOCK];
    float[] cache = new float[4 * KvPool.BLOCK * cols];
    float[][] blk = {cache, cache};
    int[] ko = {0, 2 * KvPool.BLOCK * cols};
    int[] vo = {KvPool.BLOCK * cols, 3 * KvPool.BLOCK * cols};
    for (int i = 0; i < 20_000; i++) {
      int n = 1 + (i & 15);
      matmul(w, cols, x, cols, Math.min(n, 8), y, rows, 0, rows);
      matmulBf16(wb, x, cols, n, y, wideRows, 0, wideRows - (i & 7));
      dot(x, 0, x, cols, cols);
      axpy(0.5f, x, 0, y, 0, rows);
      swiglu(x, y, 0, rows);
      expShifted(x, 0, cols, 0f, 1f, y);
      sum(x, 0, cols);
      if (i % 4 == 0) {
        attention(q, 0, 1 + (i / 4) % 7, cols, 1 + (i / 4) % (2 * KvPool.BLOCK), 0.125f, blk, ko, vo, out, scores);
      }
    }
  }

  /** The Vector API kernels when {@code jdk.incubator.vector} is readable, else the scalar ones. */
  static Kernels best() {
    return Holder.BEST;
  }

  /** Lazily picks the implementation so that the Vector API classes load only when present. */
  final class Holder {
    static final Kernels BEST = pick();

    static {
      BEST.warmUp();
    }

    private Holder() {}

    private static Kernels pick() {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
          && !Boolean.getBoolean("art4j.engine.scalar")) {
        try {
          return new VectorKernels();
        } catch (LinkageError e) {
          return new ScalarKernels();
        }
      }
      return new ScalarKernels();
    }
  }
}
