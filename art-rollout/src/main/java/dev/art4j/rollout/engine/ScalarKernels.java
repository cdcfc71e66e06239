package dev.art4j.rollout.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Plain-Java kernels: correct everywhere, several times slower than {@link VectorKernels}. */
final class ScalarKernels implements Kernels {

  @Override
  public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
      long base = (long) r * cols;
      for (int b = 0; b < n; b++) {
        int xo = b * xStride;
        float s = 0;
        for (int i = 0; i < cols; i++) {
          s += w.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + i) * x[xo + i];
        }
        y[b * yStride + r] = s;
      }
    }
  }

  @Override
  public void matmulBf16(WeightMatrix w, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1) {
    MemorySegment m = w.data();
    for (int r = r0; r < r1; r++) {
      for (int b = 0; b < n; b++) {
        int xo = b * xStride;
        float s = 0;
        for (int c = 0; c < w.cols(); c++) {
          s = Math.fma(WeightMatrix.widen(m.getAtIndex(WeightMatrix.BF16, w.bf16Index(r, c))), x[xo + c], s);
        }
        y[b * yStride + r] = s;
      }
    }
  }

  @Override
  public float dot(float[] a, int ao, float[] b, int bo, int len) {
    float s = 0;
    for (int i = 0; i < len; i++) {
      s += a[ao + i] * b[bo + i];
    }
    return s;
  }

  @Override
  public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
    for (int i = 0; i < len; i++) {
      y[yo + i] += alpha * x[xo + i];
    }
  }

  @Override
  public void swiglu(float[] gate, float[] up, int o, int len) {
    for (int i = o; i < o + len; i++) {
      float z = gate[i];
      gate[i] = z / (1f + (float) Math.exp(-z)) * up[i];
    }
  }

  @Override
  public void attention(float[] q, int qo, int heads, int headDim, int len, float scale, float[][] blk, int[] ko,
      int[] vo, float[] out, float[] scores) {
    attentionScalar(q, qo, heads, headDim, len, scale, blk, ko, vo, out, scores);
  }

  /** {@link Kernels#attention} in plain loops (also the Vector API kernels' fallback for exotic vector widths). */
  static void attentionScalar(float[] q, int qo, int heads, int headDim, int len, float scale, float[][] blk, int[] ko,
      int[] vo, float[] out, float[] scores) {
    int bs = KvPool.BLOCK;
    for (int h = 0; h < heads; h++) {
      int qh = qo + h * headDim;
      float max = Float.NEGATIVE_INFINITY;
      for (int t = 0; t < len; t++) {
        float[] k = blk[t / bs];
        int ko0 = ko[t / bs] + t % bs;
        float s = 0;
        for (int d = 0; d < headDim; d++) {
          s = Math.fma(k[ko0 + d * bs], q[qh + d], s);
        }
        scores[t] = s * scale;
        max = Math.max(max, scores[t]);
      }
      float sum = 0;
      for (int t = 0; t < len; t++) {
        scores[t] = (float) Math.exp(scores[t] - max);
        sum += scores[t];
      }
      float inv = 1f / sum;
      java.util.Arrays.fill(out, qh, qh + headDim, 0f);
      for (int t = 0; t < len; t++) {
        float p = scores[t] * inv;
        float[] v = blk[t / bs];
        int vo0 = vo[t / bs] + (t % bs) * headDim;
        for (int d = 0; d < headDim; d++) {
          out[qh + d] = Math.fma(v[vo0 + d], p, out[qh + d]);
        }
      }
    }
  }

  @Override
  public double expShifted(float[] z, int off, int len, float max, float scale, float[] out) {
    double sum = 0;
    for (int i = 0; i < len; i++) {
      float e = (float) Math.exp((z[off + i] - max) * scale);
      out[i] = e;
      sum += e;
    }
    return sum;
  }

  @Override
  public float sum(float[] a, int off, int len) {
    float s0 = 0;
    float s1 = 0;
    int i = 0;
    for (; i + 2 <= len; i += 2) {
      s0 += a[off + i];
      s1 += a[off + i + 1];
    }
    for (; i < len; i++) {
      s0 += a[off + i];
    }
    return s0 + s1;
  }
}
