package dev.art4j.rollout.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the Vector API. {@link #matmul} is memory-bound at batch 1: it walks four weight
 * rows at once (four independent load streams keep more cache misses in flight than one) and,
 * for a batch, multiplies each loaded weight vector into two input rows, so a decode step of
 * eight sequences reads the weights once instead of eight times.
 */
final class VectorKernels implements Kernels {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  @Override
  public void matmul(ByteBuffer w, int cols, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1) {
    int upper = S.loopBound(cols);
    int rowBytes = cols * 4;
    int r = r0;
    if (n == 1) {
      // batch 1 is pure streaming: eight weight rows in flight keep more misses outstanding
      for (; r + 8 <= r1; r += 8) {
        gemv8(w, r * rowBytes, rowBytes, x, y, r, upper, cols);
      }
    }
    for (; r + 4 <= r1; r += 4) {
      int w0 = r * rowBytes;
      int w1 = w0 + rowBytes;
      int w2 = w1 + rowBytes;
      int w3 = w2 + rowBytes;
      int b = 0;
      for (; b + 4 <= n; b += 4) {
        tile4x4(w, w0, rowBytes, x, b * xStride, xStride, y, b * yStride + r, yStride, upper, cols);
      }
      for (; b + 2 <= n; b += 2) {
        int x0 = b * xStride;
        int x1 = x0 + xStride;
        FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S), a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S), a31 = FloatVector.zero(S);
        for (int i = 0; i < upper; i += L) {
          FloatVector c0 = FloatVector.fromArray(S, x, x0 + i);
          FloatVector c1 = FloatVector.fromArray(S, x, x1 + i);
          int o = 4 * i;
          FloatVector v = FloatVector.fromByteBuffer(S, w, w0 + o, ORDER);
          a00 = v.fma(c0, a00);
          a01 = v.fma(c1, a01);
          v = FloatVector.fromByteBuffer(S, w, w1 + o, ORDER);
          a10 = v.fma(c0, a10);
          a11 = v.fma(c1, a11);
          v = FloatVector.fromByteBuffer(S, w, w2 + o, ORDER);
          a20 = v.fma(c0, a20);
          a21 = v.fma(c1, a21);
          v = FloatVector.fromByteBuffer(S, w, w3 + o, ORDER);
          a30 = v.fma(c0, a30);
          a31 = v.fma(c1, a31);
        }
        int y0 = b * yStride + r;
        int y1 = y0 + yStride;
        y[y0] = tail(a00.reduceLanes(VectorOperators.ADD), w, w0, x, x0, upper, cols);
        y[y1] = tail(a01.reduceLanes(VectorOperators.ADD), w, w0, x, x1, upper, cols);
        y[y0 + 1] = tail(a10.reduceLanes(VectorOperators.ADD), w, w1, x, x0, upper, cols);
        y[y1 + 1] = tail(a11.reduceLanes(VectorOperators.ADD), w, w1, x, x1, upper, cols);
        y[y0 + 2] = tail(a20.reduceLanes(VectorOperators.ADD), w, w2, x, x0, upper, cols);
        y[y1 + 2] = tail(a21.reduceLanes(VectorOperators.ADD), w, w2, x, x1, upper, cols);
        y[y0 + 3] = tail(a30.reduceLanes(VectorOperators.ADD), w, w3, x, x0, upper, cols);
        y[y1 + 3] = tail(a31.reduceLanes(VectorOperators.ADD), w, w3, x, x1, upper, cols);
      }
      for (; b < n; b++) {
        int x0 = b * xStride;
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int i = 0; i < upper; i += L) {
          FloatVector c0 = FloatVector.fromArray(S, x, x0 + i);
          int o = 4 * i;
          a0 = FloatVector.fromByteBuffer(S, w, w0 + o, ORDER).fma(c0, a0);
          a1 = FloatVector.fromByteBuffer(S, w, w1 + o, ORDER).fma(c0, a1);
          a2 = FloatVector.fromByteBuffer(S, w, w2 + o, ORDER).fma(c0, a2);
          a3 = FloatVector.fromByteBuffer(S, w, w3 + o, ORDER).fma(c0, a3);
        }
        int y0 = b * yStride + r;
        y[y0] = tail(a0.reduceLanes(VectorOperators.ADD), w, w0, x, x0, upper, cols);
        y[y0 + 1] = tail(a1.reduceLanes(VectorOperators.ADD), w, w1, x, x0, upper, cols);
        y[y0 + 2] = tail(a2.reduceLanes(VectorOperators.ADD), w, w2, x, x0, upper, cols);
        y[y0 + 3] = tail(a3.reduceLanes(VectorOperators.ADD), w, w3, x, x0, upper, cols);
      }
    }
    for (; r < r1; r++) {
      int w0 = r * rowBytes;
      for (int b = 0; b < n; b++) {
        int x0 = b * xStride;
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < upper; i += L) {
          a0 = FloatVector.fromByteBuffer(S, w, w0 + 4 * i, ORDER).fma(FloatVector.fromArray(S, x, x0 + i), a0);
        }
        y[b * yStride + r] = tail(a0.reduceLanes(VectorOperators.ADD), w, w0, x, x0, upper, cols);
      }
    }
  }

  /** Eight weight rows (from byte offset w0) times one input row, into y[r..r+8). */
  private static void gemv8(ByteBuffer w, int w0, int rowBytes, float[] x, float[] y, int r, int upper, int cols) {
    FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
    FloatVector a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      FloatVector c = FloatVector.fromArray(S, x, i);
      int o = w0 + 4 * i;
      a0 = FloatVector.fromByteBuffer(S, w, o, ORDER).fma(c, a0);
      a1 = FloatVector.fromByteBuffer(S, w, o + rowBytes, ORDER).fma(c, a1);
      a2 = FloatVector.fromByteBuffer(S, w, o + 2 * rowBytes, ORDER).fma(c, a2);
      a3 = FloatVector.fromByteBuffer(S, w, o + 3 * rowBytes, ORDER).fma(c, a3);
      a4 = FloatVector.fromByteBuffer(S, w, o + 4 * rowBytes, ORDER).fma(c, a4);
      a5 = FloatVector.fromByteBuffer(S, w, o + 5 * rowBytes, ORDER).fma(c, a5);
      a6 = FloatVector.fromByteBuffer(S, w, o + 6 * rowBytes, ORDER).fma(c, a6);
      a7 = FloatVector.fromByteBuffer(S, w, o + 7 * rowBytes, ORDER).fma(c, a7);
    }
    y[r] = tail(a0.reduceLanes(VectorOperators.ADD), w, w0, x, 0, upper, cols);
    y[r + 1] = tail(a1.reduceLanes(VectorOperators.ADD), w, w0 + rowBytes, x, 0, upper, cols);
    y[r + 2] = tail(a2.reduceLanes(VectorOperators.ADD), w, w0 + 2 * rowBytes, x, 0, upper, cols);
    y[r + 3] = tail(a3.reduceLanes(VectorOperators.ADD), w, w0 + 3 * rowBytes, x, 0, upper, cols);
    y[r + 4] = tail(a4.reduceLanes(VectorOperators.ADD), w, w0 + 4 * rowBytes, x, 0, upper, cols);
    y[r + 5] = tail(a5.reduceLanes(VectorOperators.ADD), w, w0 + 5 * rowBytes, x, 0, upper, cols);
    y[r + 6] = tail(a6.reduceLanes(VectorOperators.ADD), w, w0 + 6 * rowBytes, x, 0, upper, cols);
    y[r + 7] = tail(a7.reduceLanes(VectorOperators.ADD), w, w0 + 7 * rowBytes, x, 0, upper, cols);
  }

  /** Four weight rows (from byte offset w0) times four input rows (from x0), into y from y0. */
  private static void tile4x4(ByteBuffer w, int w0, int rowBytes, float[] x, int x0, int xStride, float[] y, int y0,
      int yStride, int upper, int cols) {
    int w1 = w0 + rowBytes;
    int w2 = w1 + rowBytes;
    int w3 = w2 + rowBytes;
    int x1 = x0 + xStride;
    int x2 = x1 + xStride;
    int x3 = x2 + xStride;
    FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S), a03 = FloatVector.zero(S);
    FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S), a13 = FloatVector.zero(S);
    FloatVector a20 = FloatVector.zero(S), a21 = FloatVector.zero(S), a22 = FloatVector.zero(S), a23 = FloatVector.zero(S);
    FloatVector a30 = FloatVector.zero(S), a31 = FloatVector.zero(S), a32 = FloatVector.zero(S), a33 = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      FloatVector c0 = FloatVector.fromArray(S, x, x0 + i);
      FloatVector c1 = FloatVector.fromArray(S, x, x1 + i);
      FloatVector c2 = FloatVector.fromArray(S, x, x2 + i);
      FloatVector c3 = FloatVector.fromArray(S, x, x3 + i);
      int o = 4 * i;
      FloatVector v = FloatVector.fromByteBuffer(S, w, w0 + o, ORDER);
      a00 = v.fma(c0, a00);
      a01 = v.fma(c1, a01);
      a02 = v.fma(c2, a02);
      a03 = v.fma(c3, a03);
      v = FloatVector.fromByteBuffer(S, w, w1 + o, ORDER);
      a10 = v.fma(c0, a10);
      a11 = v.fma(c1, a11);
      a12 = v.fma(c2, a12);
      a13 = v.fma(c3, a13);
      v = FloatVector.fromByteBuffer(S, w, w2 + o, ORDER);
      a20 = v.fma(c0, a20);
      a21 = v.fma(c1, a21);
      a22 = v.fma(c2, a22);
      a23 = v.fma(c3, a23);
      v = FloatVector.fromByteBuffer(S, w, w3 + o, ORDER);
      a30 = v.fma(c0, a30);
      a31 = v.fma(c1, a31);
      a32 = v.fma(c2, a32);
      a33 = v.fma(c3, a33);
    }
    int y1 = y0 + yStride;
    int y2 = y1 + yStride;
    int y3 = y2 + yStride;
    y[y0] = tail(a00.reduceLanes(VectorOperators.ADD), w, w0, x, x0, upper, cols);
    y[y1] = tail(a01.reduceLanes(VectorOperators.ADD), w, w0, x, x1, upper, cols);
    y[y2] = tail(a02.reduceLanes(VectorOperators.ADD), w, w0, x, x2, upper, cols);
    y[y3] = tail(a03.reduceLanes(VectorOperators.ADD), w, w0, x, x3, upper, cols);
    y[y0 + 1] = tail(a10.reduceLanes(VectorOperators.ADD), w, w1, x, x0, upper, cols);
    y[y1 + 1] = tail(a11.reduceLanes(VectorOperators.ADD), w, w1, x, x1, upper, cols);
    y[y2 + 1] = tail(a12.reduceLanes(VectorOperators.ADD), w, w1, x, x2, upper, cols);
    y[y3 + 1] = tail(a13.reduceLanes(VectorOperators.ADD), w, w1, x, x3, upper, cols);
    y[y0 + 2] = tail(a20.reduceLanes(VectorOperators.ADD), w, w2, x, x0, upper, cols);
    y[y1 + 2] = tail(a21.reduceLanes(VectorOperators.ADD), w, w2, x, x1, upper, cols);
    y[y2 + 2] = tail(a22.reduceLanes(VectorOperators.ADD), w, w2, x, x2, upper, cols);
    y[y3 + 2] = tail(a23.reduceLanes(VectorOperators.ADD), w, w2, x, x3, upper, cols);
    y[y0 + 3] = tail(a30.reduceLanes(VectorOperators.ADD), w, w3, x, x0, upper, cols);
    y[y1 + 3] = tail(a31.reduceLanes(VectorOperators.ADD), w, w3, x, x1, upper, cols);
    y[y2 + 3] = tail(a32.reduceLanes(VectorOperators.ADD), w, w3, x, x2, upper, cols);
    y[y3 + 3] = tail(a33.reduceLanes(VectorOperators.ADD), w, w3, x, x3, upper, cols);
  }

  /**
   * Adds the columns past the last full vector to a reduced sum. (The caller reduces: a vector
   * passed to a method that is not inlined would be boxed on the heap, per output.)
   */
  private static float tail(float s, ByteBuffer w, int wo, float[] x, int xo, int upper, int cols) {
    for (int i = upper; i < cols; i++) {
      s += w.getFloat(wo + 4 * i) * x[xo + i];
    }
    return s;
  }

  @Override
  public float dot(float[] a, int ao, float[] b, int bo, int len) {
    int upper = S.loopBound(len);
    FloatVector acc = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (int i = upper; i < len; i++) {
      s += a[ao + i] * b[bo + i];
    }
    return s;
  }

  @Override
  public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
    int upper = S.loopBound(len);
    FloatVector a = FloatVector.broadcast(S, alpha);
    for (int i = 0; i < upper; i += L) {
      FloatVector.fromArray(S, x, xo + i).fma(a, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
    }
    for (int i = upper; i < len; i++) {
      y[yo + i] += alpha * x[xo + i];
    }
  }

  @Override
  public void swiglu(float[] gate, float[] up, int o, int len) {
    int upper = S.loopBound(len);
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < upper; i += L) {
      FloatVector z = FloatVector.fromArray(S, gate, o + i);
      FloatVector sig = one.div(z.neg().lanewise(VectorOperators.EXP).add(one));
      z.mul(sig).mul(FloatVector.fromArray(S, up, o + i)).intoArray(gate, o + i);
    }
    for (int i = upper; i < len; i++) {
      float z = gate[o + i];
      gate[o + i] = z / (1f + (float) Math.exp(-z)) * up[o + i];
    }
  }

  @Override
  public double expShifted(float[] z, int off, int len, float max, float scale, float[] out) {
    int upper = S.loopBound(len);
    FloatVector m = FloatVector.broadcast(S, max);
    FloatVector sc = FloatVector.broadcast(S, scale);
    FloatVector acc = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      FloatVector e = FloatVector.fromArray(S, z, off + i).sub(m).mul(sc).lanewise(VectorOperators.EXP);
      e.intoArray(out, i);
      acc = acc.add(e);
    }
    double sum = acc.reduceLanes(VectorOperators.ADD);
    for (int i = upper; i < len; i++) {
      float e = (float) Math.exp((z[off + i] - max) * scale);
      out[i] = e;
      sum += e;
    }
    return sum;
  }

  @Override
  public float sum(float[] a, int off, int len) {
    int upper = len - len % (4 * L);
    FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
    for (int i = 0; i < upper; i += 4 * L) {
      s0 = s0.add(FloatVector.fromArray(S, a, off + i));
      s1 = s1.add(FloatVector.fromArray(S, a, off + i + L));
      s2 = s2.add(FloatVector.fromArray(S, a, off + i + 2 * L));
      s3 = s3.add(FloatVector.fromArray(S, a, off + i + 3 * L));
    }
    float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    for (int i = upper; i < len; i++) {
      s += a[off + i];
    }
    return s;
  }
}
