package dev.art4j.rollout.engine;

/**
 * A frozen copy of a LoRA adapter's weights as the engine reads them while sampling: a request
 * keeps the snapshot it started with, so a training step that updates the adapter mid-request
 * never mixes two policies inside one completion. The adapted projection computes
 * {@code y = x W^T + scaling * (x A^T) B^T}.
 */
final class AdapterSnapshot {

  final long version;
  final int rank;
  final float scaling;
  /** {@code a[layer][projection]}: (rank, in) row-major, or null where not adapted. */
  final float[][][] a;
  /** {@code b[layer][projection]} transposed: (rank, out) row-major, or null where not adapted. */
  final float[][][] b;

  AdapterSnapshot(long version, int rank, float scaling, float[][][] a, float[][][] b) {
    this.version = version;
    this.rank = rank;
    this.scaling = scaling;
    this.a = a;
    this.b = b;
  }

  /**
   * Adds the low-rank term of projection {@code p} of {@code layer} for {@code n} rows:
   * {@code y[row*yStride + o] += sum_k B[o,k] t_k}, {@code t_k = scaling * sum_i A[k,i] x[row*xStride + i]}
   * (B is held transposed so that this is {@code rank} vector updates of width {@code out}).
   */
  void apply(Kernels k, int layer, int p, float[] x, int xStride, int in, float[] y, int yStride, int out,
      int row, float[] t) {
    float[] pa = a[layer][p];
    if (pa == null) {
      return;
    }
    float[] pb = b[layer][p];
    for (int r = 0; r < rank; r++) {
      t[r] = k.dot(pa, r * in, x, row * xStride, in) * scaling;
    }
    int yo = row * yStride;
    for (int r = 0; r < rank; r++) {
      k.axpy(t[r], pb, r * out, y, yo, out);
    }
  }
}
