package dev.art4j.rollout.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
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
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  @Override
  public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1) {
    float[] red = RED.get();
    int upper = S.loopBound(cols);
    long rowBytes = cols * 4L;
    int r = r0;
    if (n == 1) {
      // batch 1 is pure streaming: eight weight rows in flight keep more misses outstanding
      for (; r + 8 <= r1; r += 8) {
        gemv8(red, w, r * rowBytes, rowBytes, x, y, r, upper, cols);
      }
    }
    for (; r + 4 <= r1; r += 4) {
      long w0 = r * rowBytes;
      long w1 = w0 + rowBytes;
      long w2 = w1 + rowBytes;
      long w3 = w2 + rowBytes;
      int b = 0;
      for (; b + 4 <= n; b += 4) {
        tile4x4(red, w, w0, rowBytes, x, b * xStride, xStride, y, b * yStride + r, yStride, upper, cols);
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
          long o = 4L * i;
          FloatVector v = FloatVector.fromMemorySegment(S, w, w0 + o, ORDER);
          a00 = v.fma(c0, a00);
          a01 = v.fma(c1, a01);
          v = FloatVector.fromMemorySegment(S, w, w1 + o, ORDER);
          a10 = v.fma(c0, a10);
          a11 = v.fma(c1, a11);
          v = FloatVector.fromMemorySegment(S, w, w2 + o, ORDER);
          a20 = v.fma(c0, a20);
          a21 = v.fma(c1, a21);
          v = FloatVector.fromMemorySegment(S, w, w3 + o, ORDER);
          a30 = v.fma(c0, a30);
          a31 = v.fma(c1, a31);
        }
        int y0 = b * yStride + r;
        int y1 = y0 + yStride;
        a00.intoArray(red, 0);
        y[y0] = tail(lanes(red), w, w0, x, x0, upper, cols);
        a01.intoArray(red, 0);
        y[y1] = tail(lanes(red), w, w0, x, x1, upper, cols);
        a10.intoArray(red, 0);
        y[y0 + 1] = tail(lanes(red), w, w1, x, x0, upper, cols);
        a11.intoArray(red, 0);
        y[y1 + 1] = tail(lanes(red), w, w1, x, x1, upper, cols);
        a20.intoArray(red, 0);
        y[y0 + 2] = tail(lanes(red), w, w2, x, x0, upper, cols);
        a21.intoArray(red, 0);
        y[y1 + 2] = tail(lanes(red), w, w2, x, x1, upper, cols);
        a30.intoArray(red, 0);
        y[y0 + 3] = tail(lanes(red), w, w3, x, x0, upper, cols);
        a31.intoArray(red, 0);
        y[y1 + 3] = tail(lanes(red), w, w3, x, x1, upper, cols);
      }
      for (; b < n; b++) {
        int x0 = b * xStride;
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int i = 0; i < upper; i += L) {
          FloatVector c0 = FloatVector.fromArray(S, x, x0 + i);
          long o = 4L * i;
          a0 = FloatVector.fromMemorySegment(S, w, w0 + o, ORDER).fma(c0, a0);
          a1 = FloatVector.fromMemorySegment(S, w, w1 + o, ORDER).fma(c0, a1);
          a2 = FloatVector.fromMemorySegment(S, w, w2 + o, ORDER).fma(c0, a2);
          a3 = FloatVector.fromMemorySegment(S, w, w3 + o, ORDER).fma(c0, a3);
        }
        int y0 = b * yStride + r;
        a0.intoArray(red, 0);
        y[y0] = tail(lanes(red), w, w0, x, x0, upper, cols);
        a1.intoArray(red, 0);
        y[y0 + 1] = tail(lanes(red), w, w1, x, x0, upper, cols);
        a2.intoArray(red, 0);
        y[y0 + 2] = tail(lanes(red), w, w2, x, x0, upper, cols);
        a3.intoArray(red, 0);
        y[y0 + 3] = tail(lanes(red), w, w3, x, x0, upper, cols);
      }
    }
    for (; r < r1; r++) {
      long w0 = r * rowBytes;
      for (int b = 0; b < n; b++) {
        int x0 = b * xStride;
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < upper; i += L) {
          a0 = FloatVector.fromMemorySegment(S, w, w0 + 4L * i, ORDER).fma(FloatVector.fromArray(S, x, x0 + i), a0);
        }
        a0.intoArray(red, 0);
        y[b * yStride + r] = tail(lanes(red), w, w0, x, x0, upper, cols);
      }
    }
  }

  /** Eight weight rows (from byte offset w0) times one input row, into y[r..r+8). */
  private static void gemv8(float[] red, MemorySegment w, long w0, long rowBytes, float[] x, float[] y, int r, int upper, int cols) {
    FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
    FloatVector a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      FloatVector c = FloatVector.fromArray(S, x, i);
      long o = w0 + 4L * i;
      a0 = FloatVector.fromMemorySegment(S, w, o, ORDER).fma(c, a0);
      a1 = FloatVector.fromMemorySegment(S, w, o + rowBytes, ORDER).fma(c, a1);
      a2 = FloatVector.fromMemorySegment(S, w, o + 2 * rowBytes, ORDER).fma(c, a2);
      a3 = FloatVector.fromMemorySegment(S, w, o + 3 * rowBytes, ORDER).fma(c, a3);
      a4 = FloatVector.fromMemorySegment(S, w, o + 4 * rowBytes, ORDER).fma(c, a4);
      a5 = FloatVector.fromMemorySegment(S, w, o + 5 * rowBytes, ORDER).fma(c, a5);
      a6 = FloatVector.fromMemorySegment(S, w, o + 6 * rowBytes, ORDER).fma(c, a6);
      a7 = FloatVector.fromMemorySegment(S, w, o + 7 * rowBytes, ORDER).fma(c, a7);
    }
    a0.intoArray(red, 0);
    y[r] = tail(lanes(red), w, w0, x, 0, upper, cols);
    a1.intoArray(red, 0);
    y[r + 1] = tail(lanes(red), w, w0 + rowBytes, x, 0, upper, cols);
    a2.intoArray(red, 0);
    y[r + 2] = tail(lanes(red), w, w0 + 2 * rowBytes, x, 0, upper, cols);
    a3.intoArray(red, 0);
    y[r + 3] = tail(lanes(red), w, w0 + 3 * rowBytes, x, 0, upper, cols);
    a4.intoArray(red, 0);
    y[r + 4] = tail(lanes(red), w, w0 + 4 * rowBytes, x, 0, upper, cols);
    a5.intoArray(red, 0);
    y[r + 5] = tail(lanes(red), w, w0 + 5 * rowBytes, x, 0, upper, cols);
    a6.intoArray(red, 0);
    y[r + 6] = tail(lanes(red), w, w0 + 6 * rowBytes, x, 0, upper, cols);
    a7.intoArray(red, 0);
    y[r + 7] = tail(lanes(red), w, w0 + 7 * rowBytes, x, 0, upper, cols);
  }

  /** Four weight rows (from byte offset w0) times four input rows (from x0), into y from y0. */
  private static void tile4x4(float[] red, MemorySegment w, long w0, long rowBytes, float[] x, int x0, int xStride, float[] y, int y0,
      int yStride, int upper, int cols) {
    long w1 = w0 + rowBytes;
    long w2 = w1 + rowBytes;
    long w3 = w2 + rowBytes;
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
      long o = 4L * i;
      FloatVector v = FloatVector.fromMemorySegment(S, w, w0 + o, ORDER);
      a00 = v.fma(c0, a00);
      a01 = v.fma(c1, a01);
      a02 = v.fma(c2, a02);
      a03 = v.fma(c3, a03);
      v = FloatVector.fromMemorySegment(S, w, w1 + o, ORDER);
      a10 = v.fma(c0, a10);
      a11 = v.fma(c1, a11);
      a12 = v.fma(c2, a12);
      a13 = v.fma(c3, a13);
      v = FloatVector.fromMemorySegment(S, w, w2 + o, ORDER);
      a20 = v.fma(c0, a20);
      a21 = v.fma(c1, a21);
      a22 = v.fma(c2, a22);
      a23 = v.fma(c3, a23);
      v = FloatVector.fromMemorySegment(S, w, w3 + o, ORDER);
      a30 = v.fma(c0, a30);
      a31 = v.fma(c1, a31);
      a32 = v.fma(c2, a32);
      a33 = v.fma(c3, a33);
    }
    int y1 = y0 + yStride;
    int y2 = y1 + yStride;
    int y3 = y2 + yStride;
    if (L == 16) {
      // the sixteen lane sums at once, output index 4 * input row + weight row: lanes() tree
      FloatVector c0 = a00.blend(a02, M8).add(a02.blend(a00, M8).rearrange(X8));
      FloatVector c1 = a10.blend(a12, M8).add(a12.blend(a10, M8).rearrange(X8));
      FloatVector c2 = a20.blend(a22, M8).add(a22.blend(a20, M8).rearrange(X8));
      FloatVector c3 = a30.blend(a32, M8).add(a32.blend(a30, M8).rearrange(X8));
      FloatVector c4 = a01.blend(a03, M8).add(a03.blend(a01, M8).rearrange(X8));
      FloatVector c5 = a11.blend(a13, M8).add(a13.blend(a11, M8).rearrange(X8));
      FloatVector c6 = a21.blend(a23, M8).add(a23.blend(a21, M8).rearrange(X8));
      FloatVector c7 = a31.blend(a33, M8).add(a33.blend(a31, M8).rearrange(X8));
      c0 = c0.blend(c4, M4).add(c4.blend(c0, M4).rearrange(X4));
      c1 = c1.blend(c5, M4).add(c5.blend(c1, M4).rearrange(X4));
      c2 = c2.blend(c6, M4).add(c6.blend(c2, M4).rearrange(X4));
      c3 = c3.blend(c7, M4).add(c7.blend(c3, M4).rearrange(X4));
      c0 = c0.blend(c2, M2).add(c2.blend(c0, M2).rearrange(X2));
      c1 = c1.blend(c3, M2).add(c3.blend(c1, M2).rearrange(X2));
      c0.blend(c1, M1).add(c1.blend(c0, M1).rearrange(X1)).intoArray(red, 0);
      y[y0] = tail(red[0], w, w0, x, x0, upper, cols);
      y[y0 + 1] = tail(red[1], w, w1, x, x0, upper, cols);
      y[y0 + 2] = tail(red[2], w, w2, x, x0, upper, cols);
      y[y0 + 3] = tail(red[3], w, w3, x, x0, upper, cols);
      y[y1] = tail(red[4], w, w0, x, x1, upper, cols);
      y[y1 + 1] = tail(red[5], w, w1, x, x1, upper, cols);
      y[y1 + 2] = tail(red[6], w, w2, x, x1, upper, cols);
      y[y1 + 3] = tail(red[7], w, w3, x, x1, upper, cols);
      y[y2] = tail(red[8], w, w0, x, x2, upper, cols);
      y[y2 + 1] = tail(red[9], w, w1, x, x2, upper, cols);
      y[y2 + 2] = tail(red[10], w, w2, x, x2, upper, cols);
      y[y2 + 3] = tail(red[11], w, w3, x, x2, upper, cols);
      y[y3] = tail(red[12], w, w0, x, x3, upper, cols);
      y[y3 + 1] = tail(red[13], w, w1, x, x3, upper, cols);
      y[y3 + 2] = tail(red[14], w, w2, x, x3, upper, cols);
      y[y3 + 3] = tail(red[15], w, w3, x, x3, upper, cols);
      return;
    }
    a00.intoArray(red, 0);
    y[y0] = tail(lanes(red), w, w0, x, x0, upper, cols);
    a01.intoArray(red, 0);
    y[y1] = tail(lanes(red), w, w0, x, x1, upper, cols);
    a02.intoArray(red, 0);
    y[y2] = tail(lanes(red), w, w0, x, x2, upper, cols);
    a03.intoArray(red, 0);
    y[y3] = tail(lanes(red), w, w0, x, x3, upper, cols);
    a10.intoArray(red, 0);
    y[y0 + 1] = tail(lanes(red), w, w1, x, x0, upper, cols);
    a11.intoArray(red, 0);
    y[y1 + 1] = tail(lanes(red), w, w1, x, x1, upper, cols);
    a12.intoArray(red, 0);
    y[y2 + 1] = tail(lanes(red), w, w1, x, x2, upper, cols);
    a13.intoArray(red, 0);
    y[y3 + 1] = tail(lanes(red), w, w1, x, x3, upper, cols);
    a20.intoArray(red, 0);
    y[y0 + 2] = tail(lanes(red), w, w2, x, x0, upper, cols);
    a21.intoArray(red, 0);
    y[y1 + 2] = tail(lanes(red), w, w2, x, x1, upper, cols);
    a22.intoArray(red, 0);
    y[y2 + 2] = tail(lanes(red), w, w2, x, x2, upper, cols);
    a23.intoArray(red, 0);
    y[y3 + 2] = tail(lanes(red), w, w2, x, x3, upper, cols);
    a30.intoArray(red, 0);
    y[y0 + 3] = tail(lanes(red), w, w3, x, x0, upper, cols);
    a31.intoArray(red, 0);
    y[y1 + 3] = tail(lanes(red), w, w3, x, x1, upper, cols);
    a32.intoArray(red, 0);
    y[y2 + 3] = tail(lanes(red), w, w3, x, x2, upper, cols);
    a33.intoArray(red, 0);
    y[y3 + 3] = tail(lanes(red), w, w3, x, x3, upper, cols);
  }

  // ---------------------------------------------------------------- bfloat16 weights

  private static final VectorSpecies<Integer> I = S.withLanes(int.class);
  /** The high half of every int lane: the odd column of a bf16 pair, already in fp32 position. */
  private static final int ODD = 0xFFFF0000;
  /** Bytes from one column pair of a bf16 panel to the next. */
  private static final long PAIR = 4L * WeightMatrix.PANEL;
  /** Where the vector width does not divide a panel (wider than 512 bits) or a range starts mid-panel. */
  private static final Kernels SCALAR = new ScalarKernels();

  /*
   * The bf16 tiles read column pair k, k+1 of L rows of a panel as one int vector (WeightMatrix's
   * layout), widen it with a shift (column k) and a mask (column k+1), and multiply each into the
   * broadcast input values, one accumulator per (group of L rows, input row): no lane sums at the
   * end, each accumulator is L finished outputs. Loads and widenings are written out in each tile
   * rather than in helpers: a helper C2 does not inline returns its vector boxed on the heap.
   */

  /**
   * Groups of L rows, two at a time against eight, four or one input rows (four against one at
   * batch 1, where the kernel only streams). Input rows are the outer loop: a task's rows (64 in the
   * engine) stay in L2 while each octet of inputs passes over them, so a decode group of up to
   * eight rows reads every weight from memory once, the streaming overlapping its arithmetic.
   */
  @Override
  public void matmulBf16(WeightMatrix w, float[] x, int xStride, int n, float[] y, int yStride, int r0, int r1) {
    if (WeightMatrix.PANEL % L != 0 || r0 % (2 * WeightMatrix.PANEL) != 0) { // neither happens in the engine
      SCALAR.matmulBf16(w, x, xStride, n, y, yStride, r0, r1);
      return;
    }
    MemorySegment m = w.data();
    long pb = w.panelBytes();
    int cols = w.cols();
    int g1 = (r1 + L - 1) / L;
    if (n == 1) {
      int g = r0 / L;
      for (; g + 4 <= g1; g += 4) {
        tile4x1(m, group(g, pb), group(g + 1, pb), group(g + 2, pb), group(g + 3, pb), x, 0, y, g * L, r1 - g * L, cols);
      }
      for (; g < g1; g += 2) { // an odd last group pairs with a padding or next-task group, computed, not stored
        tile2x1(m, group(g, pb), group(g + 1, pb), x, 0, y, g * L, r1 - g * L, cols);
      }
      return;
    }
    int b = 0;
    for (; b + 8 <= n; b += 8) {
      for (int g = r0 / L; g < g1; g += 2) {
        tile2x8(m, group(g, pb), group(g + 1, pb), x, b * xStride, xStride, y, b * yStride + g * L, yStride, r1 - g * L, cols);
      }
    }
    for (; b + 4 <= n; b += 4) {
      for (int g = r0 / L; g < g1; g += 2) {
        tile2x4(m, group(g, pb), group(g + 1, pb), x, b * xStride, xStride, y, b * yStride + g * L, yStride, r1 - g * L, cols);
      }
    }
    for (; b < n; b++) {
      for (int g = r0 / L; g < g1; g += 2) {
        tile2x1(m, group(g, pb), group(g + 1, pb), x, b * xStride, y, b * yStride + g * L, r1 - g * L, cols);
      }
    }
  }

  /** The byte offset of rows {@code g L .. g L + L - 1} in a bf16 matrix: their panel, then their place in its blocks. */
  private static long group(int g, long panelBytes) {
    int row = g * L;
    return row / WeightMatrix.PANEL * panelBytes + row % WeightMatrix.PANEL * 4L;
  }

  /** Stores the {@code valid} first lanes of {@code a} (all of them, or none) at {@code y[o..]}. */
  private static void put(FloatVector a, float[] y, int o, int valid) {
    if (valid >= L) {
      a.intoArray(y, o);
    } else if (valid > 0) {
      a.intoArray(y, o, S.indexInRange(0, valid));
    }
  }

  /**
   * Two row groups (from byte offsets o0, o1) times eight input rows (from x0, xStride apart) into y
   * from y0, of which {@code valid} rows are the caller's: the tile of a decode group and of prefill.
   */
  private static void tile2x8(MemorySegment m, long o0, long o1, float[] x, int x0, int xStride, float[] y, int y0,
      int yStride, int valid, int cols) {
    FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S), a03 = FloatVector.zero(S);
    FloatVector a04 = FloatVector.zero(S), a05 = FloatVector.zero(S), a06 = FloatVector.zero(S), a07 = FloatVector.zero(S);
    FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S), a13 = FloatVector.zero(S);
    FloatVector a14 = FloatVector.zero(S), a15 = FloatVector.zero(S), a16 = FloatVector.zero(S), a17 = FloatVector.zero(S);
    int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride;
    int x5 = x4 + xStride, x6 = x5 + xStride, x7 = x6 + xStride;
    int pairs = cols & ~1;
    for (int k = 0; k < pairs; k += 2) {
      long o = (k >> 1) * PAIR;
      IntVector v0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN);
      FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + k]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      FloatVector c1 = FloatVector.broadcast(S, x[x1 + k]);
      a01 = e0.fma(c1, a01);
      a11 = e1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(S, x[x2 + k]);
      a02 = e0.fma(c2, a02);
      a12 = e1.fma(c2, a12);
      FloatVector c3 = FloatVector.broadcast(S, x[x3 + k]);
      a03 = e0.fma(c3, a03);
      a13 = e1.fma(c3, a13);
      FloatVector c4 = FloatVector.broadcast(S, x[x4 + k]);
      a04 = e0.fma(c4, a04);
      a14 = e1.fma(c4, a14);
      FloatVector c5 = FloatVector.broadcast(S, x[x5 + k]);
      a05 = e0.fma(c5, a05);
      a15 = e1.fma(c5, a15);
      FloatVector c6 = FloatVector.broadcast(S, x[x6 + k]);
      a06 = e0.fma(c6, a06);
      a16 = e1.fma(c6, a16);
      FloatVector c7 = FloatVector.broadcast(S, x[x7 + k]);
      a07 = e0.fma(c7, a07);
      a17 = e1.fma(c7, a17);
      FloatVector f0 = v0.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f1 = v1.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector d0 = FloatVector.broadcast(S, x[x0 + k + 1]);
      a00 = f0.fma(d0, a00);
      a10 = f1.fma(d0, a10);
      FloatVector d1 = FloatVector.broadcast(S, x[x1 + k + 1]);
      a01 = f0.fma(d1, a01);
      a11 = f1.fma(d1, a11);
      FloatVector d2 = FloatVector.broadcast(S, x[x2 + k + 1]);
      a02 = f0.fma(d2, a02);
      a12 = f1.fma(d2, a12);
      FloatVector d3 = FloatVector.broadcast(S, x[x3 + k + 1]);
      a03 = f0.fma(d3, a03);
      a13 = f1.fma(d3, a13);
      FloatVector d4 = FloatVector.broadcast(S, x[x4 + k + 1]);
      a04 = f0.fma(d4, a04);
      a14 = f1.fma(d4, a14);
      FloatVector d5 = FloatVector.broadcast(S, x[x5 + k + 1]);
      a05 = f0.fma(d5, a05);
      a15 = f1.fma(d5, a15);
      FloatVector d6 = FloatVector.broadcast(S, x[x6 + k + 1]);
      a06 = f0.fma(d6, a06);
      a16 = f1.fma(d6, a16);
      FloatVector d7 = FloatVector.broadcast(S, x[x7 + k + 1]);
      a07 = f0.fma(d7, a07);
      a17 = f1.fma(d7, a17);
    }
    if (pairs < cols) { // an odd last column: the even half of its pair
      long o = (pairs >> 1) * PAIR;
      FloatVector e0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + pairs]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      FloatVector c1 = FloatVector.broadcast(S, x[x1 + pairs]);
      a01 = e0.fma(c1, a01);
      a11 = e1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(S, x[x2 + pairs]);
      a02 = e0.fma(c2, a02);
      a12 = e1.fma(c2, a12);
      FloatVector c3 = FloatVector.broadcast(S, x[x3 + pairs]);
      a03 = e0.fma(c3, a03);
      a13 = e1.fma(c3, a13);
      FloatVector c4 = FloatVector.broadcast(S, x[x4 + pairs]);
      a04 = e0.fma(c4, a04);
      a14 = e1.fma(c4, a14);
      FloatVector c5 = FloatVector.broadcast(S, x[x5 + pairs]);
      a05 = e0.fma(c5, a05);
      a15 = e1.fma(c5, a15);
      FloatVector c6 = FloatVector.broadcast(S, x[x6 + pairs]);
      a06 = e0.fma(c6, a06);
      a16 = e1.fma(c6, a16);
      FloatVector c7 = FloatVector.broadcast(S, x[x7 + pairs]);
      a07 = e0.fma(c7, a07);
      a17 = e1.fma(c7, a17);
    }
    put(a00, y, y0, valid);
    put(a10, y, y0 + L, valid - L);
    put(a01, y, y0 + yStride, valid);
    put(a11, y, y0 + yStride + L, valid - L);
    put(a02, y, y0 + 2 * yStride, valid);
    put(a12, y, y0 + 2 * yStride + L, valid - L);
    put(a03, y, y0 + 3 * yStride, valid);
    put(a13, y, y0 + 3 * yStride + L, valid - L);
    put(a04, y, y0 + 4 * yStride, valid);
    put(a14, y, y0 + 4 * yStride + L, valid - L);
    put(a05, y, y0 + 5 * yStride, valid);
    put(a15, y, y0 + 5 * yStride + L, valid - L);
    put(a06, y, y0 + 6 * yStride, valid);
    put(a16, y, y0 + 6 * yStride + L, valid - L);
    put(a07, y, y0 + 7 * yStride, valid);
    put(a17, y, y0 + 7 * yStride + L, valid - L);
  }

  /**
   * Two row groups times four input rows: the rest of a batch past its octets.
   */
  private static void tile2x4(MemorySegment m, long o0, long o1, float[] x, int x0, int xStride, float[] y, int y0,
      int yStride, int valid, int cols) {
    FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S), a03 = FloatVector.zero(S);
    FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S), a13 = FloatVector.zero(S);
    int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
    int pairs = cols & ~1;
    for (int k = 0; k < pairs; k += 2) {
      long o = (k >> 1) * PAIR;
      IntVector v0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN);
      FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + k]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      FloatVector c1 = FloatVector.broadcast(S, x[x1 + k]);
      a01 = e0.fma(c1, a01);
      a11 = e1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(S, x[x2 + k]);
      a02 = e0.fma(c2, a02);
      a12 = e1.fma(c2, a12);
      FloatVector c3 = FloatVector.broadcast(S, x[x3 + k]);
      a03 = e0.fma(c3, a03);
      a13 = e1.fma(c3, a13);
      FloatVector f0 = v0.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f1 = v1.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector d0 = FloatVector.broadcast(S, x[x0 + k + 1]);
      a00 = f0.fma(d0, a00);
      a10 = f1.fma(d0, a10);
      FloatVector d1 = FloatVector.broadcast(S, x[x1 + k + 1]);
      a01 = f0.fma(d1, a01);
      a11 = f1.fma(d1, a11);
      FloatVector d2 = FloatVector.broadcast(S, x[x2 + k + 1]);
      a02 = f0.fma(d2, a02);
      a12 = f1.fma(d2, a12);
      FloatVector d3 = FloatVector.broadcast(S, x[x3 + k + 1]);
      a03 = f0.fma(d3, a03);
      a13 = f1.fma(d3, a13);
    }
    if (pairs < cols) { // an odd last column: the even half of its pair
      long o = (pairs >> 1) * PAIR;
      FloatVector e0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + pairs]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      FloatVector c1 = FloatVector.broadcast(S, x[x1 + pairs]);
      a01 = e0.fma(c1, a01);
      a11 = e1.fma(c1, a11);
      FloatVector c2 = FloatVector.broadcast(S, x[x2 + pairs]);
      a02 = e0.fma(c2, a02);
      a12 = e1.fma(c2, a12);
      FloatVector c3 = FloatVector.broadcast(S, x[x3 + pairs]);
      a03 = e0.fma(c3, a03);
      a13 = e1.fma(c3, a13);
    }
    put(a00, y, y0, valid);
    put(a10, y, y0 + L, valid - L);
    put(a01, y, y0 + yStride, valid);
    put(a11, y, y0 + yStride + L, valid - L);
    put(a02, y, y0 + 2 * yStride, valid);
    put(a12, y, y0 + 2 * yStride + L, valid - L);
    put(a03, y, y0 + 3 * yStride, valid);
    put(a13, y, y0 + 3 * yStride + L, valid - L);
  }

  /**
   * Two row groups times one input row: the last rows of a batch, and of a single row's range.
   */
  private static void tile2x1(MemorySegment m, long o0, long o1, float[] x, int x0, float[] y, int y0, int valid,
      int cols) {
    FloatVector a00 = FloatVector.zero(S);
    FloatVector a10 = FloatVector.zero(S);
    int pairs = cols & ~1;
    for (int k = 0; k < pairs; k += 2) {
      long o = (k >> 1) * PAIR;
      IntVector v0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN);
      FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + k]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      FloatVector f0 = v0.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f1 = v1.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector d0 = FloatVector.broadcast(S, x[x0 + k + 1]);
      a00 = f0.fma(d0, a00);
      a10 = f1.fma(d0, a10);
    }
    if (pairs < cols) { // an odd last column: the even half of its pair
      long o = (pairs >> 1) * PAIR;
      FloatVector e0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + pairs]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
    }
    put(a00, y, y0, valid);
    put(a10, y, y0 + L, valid - L);
  }

  /**
   * Four row groups times one input row: batch 1, which streams the weights (with L = 16, four
   * adjacent panels: four sequential reads in flight).
   */
  private static void tile4x1(MemorySegment m, long o0, long o1, long o2, long o3, float[] x, int x0, float[] y, int y0, int valid,
      int cols) {
    FloatVector a00 = FloatVector.zero(S);
    FloatVector a10 = FloatVector.zero(S);
    FloatVector a20 = FloatVector.zero(S);
    FloatVector a30 = FloatVector.zero(S);
    int pairs = cols & ~1;
    for (int k = 0; k < pairs; k += 2) {
      long o = (k >> 1) * PAIR;
      IntVector v0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v2 = IntVector.fromMemorySegment(I, m, o2 + o, ByteOrder.LITTLE_ENDIAN);
      IntVector v3 = IntVector.fromMemorySegment(I, m, o3 + o, ByteOrder.LITTLE_ENDIAN);
      FloatVector e0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + k]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      a20 = e2.fma(c0, a20);
      a30 = e3.fma(c0, a30);
      FloatVector f0 = v0.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f1 = v1.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f2 = v2.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector f3 = v3.lanewise(VectorOperators.AND, ODD).reinterpretAsFloats();
      FloatVector d0 = FloatVector.broadcast(S, x[x0 + k + 1]);
      a00 = f0.fma(d0, a00);
      a10 = f1.fma(d0, a10);
      a20 = f2.fma(d0, a20);
      a30 = f3.fma(d0, a30);
    }
    if (pairs < cols) { // an odd last column: the even half of its pair
      long o = (pairs >> 1) * PAIR;
      FloatVector e0 = IntVector.fromMemorySegment(I, m, o0 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e1 = IntVector.fromMemorySegment(I, m, o1 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e2 = IntVector.fromMemorySegment(I, m, o2 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector e3 = IntVector.fromMemorySegment(I, m, o3 + o, ByteOrder.LITTLE_ENDIAN)
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector c0 = FloatVector.broadcast(S, x[x0 + pairs]);
      a00 = e0.fma(c0, a00);
      a10 = e1.fma(c0, a10);
      a20 = e2.fma(c0, a20);
      a30 = e3.fma(c0, a30);
    }
    put(a00, y, y0, valid);
    put(a10, y, y0 + L, valid - L);
    put(a20, y, y0 + 2 * L, valid - 2 * L);
    put(a30, y, y0 + 3 * L, valid - 3 * L);
  }


  /** Lanes whose bit k is set (k = 8, 4, 2, 1): the 16-lane tiles' merged lane sums (L == 16 only). */
  private static final VectorMask<Float> M8 = VectorMask.fromLong(S, 0xFF00L), M4 = VectorMask.fromLong(S, 0xF0F0L),
      M2 = VectorMask.fromLong(S, 0xCCCCL), M1 = VectorMask.fromLong(S, 0xAAAAL);

  /** A thread's buffer for {@link #lanes}. */
  private static final ThreadLocal<float[]> RED = ThreadLocal.withInitial(() -> new float[Math.max(16, L)]);

  /**
   * {@link #sumLanes} of a vector the caller stored at {@code buf[0..L)}: the same pairwise tree
   * (lane i plus lane i + k for k = L/2 .. 1), hence the same float. The matmul tiles reduce
   * through it because C2 often declines to inline {@code sumLanes} into their epilogues ("callee
   * is too large" at a call site it deems cold), and a vector passed to a method that is not
   * inlined is boxed on the heap: one allocation per output, over a gigabyte a second of garbage
   * at batch 8, and a heap that grew by as much in resident memory.
   */
  static float lanes(float[] buf) {
    if (L > 16) {
      float s = buf[0];
      for (int i = 1; i < L; i++) {
        s += buf[i]; // unreachable on today's CPUs (sumLanes: reduceLanes for such a species)
      }
      return s;
    }
    if (L == 16) { // the common case (AVX-512), unrolled
      float u0 = buf[0] + buf[8], u1 = buf[1] + buf[9], u2 = buf[2] + buf[10], u3 = buf[3] + buf[11];
      float u4 = buf[4] + buf[12], u5 = buf[5] + buf[13], u6 = buf[6] + buf[14], u7 = buf[7] + buf[15];
      float w0 = u0 + u4, w1 = u1 + u5, w2 = u2 + u6, w3 = u3 + u7;
      return (w0 + w2) + (w1 + w3);
    }
    for (int k = L / 2; k >= 1; k /= 2) {
      for (int i = 0; i < k; i++) {
        buf[i] = buf[i] + buf[i + k];
      }
    }
    return buf[0];
  }

  /** Lane i swapped with lane i ^ k (k a power of two below L), for {@link #sumLanes}. */
  private static final VectorShuffle<Float> X1 = swap(1), X2 = swap(2), X4 = swap(4), X8 = swap(8);

  private static VectorShuffle<Float> swap(int k) {
    return k < L ? VectorShuffle.fromOp(S, i -> i ^ k) : null;
  }

  /**
   * The sum of a vector's lanes in one fixed order (a pairwise tree). {@code reduceLanes(ADD)}
   * leaves the order open: since JDK 21's C2 it adds in a tree while interpreted and C1 code add
   * lane after lane, so a result would change with the JIT's progress and a seeded request
   * would not repeat. Shuffles and adds round the same way in every mode.
   */
  static float sumLanes(FloatVector v) {
    if (L > 16) {
      return v.reduceLanes(VectorOperators.ADD); // no such float species on today's CPUs
    }
    if (L == 16) {
      v = v.add(v.rearrange(X8));
    }
    if (L >= 8) {
      v = v.add(v.rearrange(X4));
    }
    if (L >= 4) {
      v = v.add(v.rearrange(X2));
    }
    if (L >= 2) {
      v = v.add(v.rearrange(X1));
    }
    return v.lane(0);
  }

  private static final float LOG2E = 1.44269504f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds a float below 2^22 to an integer, kept in the low mantissa bits. */
  private static final float ROUND = 12582912f;

  /**
   * {@code out[oo + i] = e^((in[io + i] - sub) * mul)} for {@code i < n} (a multiple of L), by
   * {@link #exp}'s operations written out in the loop; returns the sum of the results (lane-wise,
   * then {@link #lanes}). A vector passed to or returned from {@code exp} when C2 does not inline
   * it (it often declines, "callee is too large") is boxed on the heap: the attention and
   * sampling loops call this instead.
   */
  private static float expInto(float[] in, int io, float sub, float mul, float[] out, int oo, int n) {
    FloatVector acc = FloatVector.zero(S);
    for (int i = 0; i < n; i += L) {
      FloatVector x = FloatVector.fromArray(S, in, io + i).sub(sub).mul(mul);
      FloatVector xC = x.max(-87.3f).min(88.3f);
      FloatVector xT = xC.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
      FloatVector xN = xT.sub(ROUND);
      IntVector xBits = xT.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127).lanewise(VectorOperators.LSHL, 23);
      FloatVector xR = xN.fma(FloatVector.broadcast(S, -LN2_HI), xC);
      xR = xN.fma(FloatVector.broadcast(S, -LN2_LO), xR);
      FloatVector xP = FloatVector.broadcast(S, 1.9875691500e-4f);
      xP = xP.fma(xR, FloatVector.broadcast(S, 1.3981999507e-3f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 8.3334519073e-3f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 4.1665795894e-2f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 1.6666665459e-1f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 5.0000001201e-1f));
      FloatVector xY = xP.mul(xR.mul(xR)).add(xR).add(1f);
      xY = xY.mul(xBits.reinterpretAsFloats());
      // below the clamp (and -inf, a masked logit) e^x is 0; NaN stays NaN
      FloatVector e = xY.blend(0f, x.lt(-87.3f)).blend(x, x.test(VectorOperators.IS_NAN));
      e.intoArray(out, oo + i);
      acc = acc.add(e);
    }
    float[] red = RED.get();
    acc.intoArray(red, 0);
    return lanes(red);
  }

  /**
   * e^x per lane (Cephes' expf: x = n ln2 + r, e^r by a degree-6 polynomial, 2^n through the
   * exponent bits; within 2 ulp; 0 below -87.3, clamped at 88.3). Written with adds, multiplies
   * and bit operations only, unlike {@code lanewise(EXP)}, whose intrinsic and Java fallback
   * round differently (the same JIT-progress problem as {@link #sumLanes}).
   */
  static FloatVector exp(FloatVector x) {
    FloatVector c = x.max(-87.3f).min(88.3f);
    FloatVector t = c.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
    FloatVector n = t.sub(ROUND);
    IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127).lanewise(VectorOperators.LSHL, 23);
    FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), c);
    r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f);
    p = p.fma(r, FloatVector.broadcast(S, 1.3981999507e-3f));
    p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
    p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
    p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
    p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
    FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
    y = y.mul(bits.reinterpretAsFloats());
    // below the clamp (and -inf, a masked logit) e^x is 0; NaN stays NaN
    return y.blend(0f, x.lt(-87.3f)).blend(x, x.test(VectorOperators.IS_NAN));
  }

  /**
   * Adds the columns past the last full vector to a reduced sum. (The caller reduces: a vector
   * passed to a method that is not inlined would be boxed on the heap, per output.)
   */
  private static float tail(float s, MemorySegment w, long wo, float[] x, int xo, int upper, int cols) {
    for (int i = upper; i < cols; i++) {
      s += w.get(F32, wo + 4L * i) * x[xo + i];
    }
    return s;
  }

  @Override
  public float dot(float[] a, int ao, float[] b, int bo, int len) {
    float[] red = RED.get();
    int upper = S.loopBound(len);
    FloatVector acc = FloatVector.zero(S);
    for (int i = 0; i < upper; i += L) {
      acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
    }
    acc.intoArray(red, 0);
    float s = lanes(red);
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

  /**
   * Scores a whole key block per fused multiply-add chain: lane j of {@code k_d * q_d + acc}, over
   * the transposed key tile, is the score of slot j, and up to four heads share each key load.
   * The softmax runs on vectors ({@link #exp}, lane-wise sums then {@link #sumLanes}: a fixed
   * order for a given {@code len}), and the weighted sum of values is a chain of
   * {@code v_t * p_t + acc} over t, four heads per value load.
   */
  @Override
  public void attention(float[] q, int qo, int heads, int headDim, int len, float scale, float[][] blk, int[] ko,
      int[] vo, float[] out, float[] scores) {
    int bs = KvPool.BLOCK;
    if (L > bs || bs % L != 0) {
      ScalarKernels.attentionScalar(q, qo, heads, headDim, len, scale, blk, ko, vo, out, scores);
      return;
    }
    int blocks = (len + bs - 1) / bs;
    int span = blocks * bs;
    // scores, block by block, then the padding past len masked out
    for (int b = 0; b < blocks; b++) {
      float[] k = blk[b];
      for (int c = 0; c < bs; c += L) {
        int k0 = ko[b] + c;
        for (int h = 0; h < heads; h += 4) {
          int h1 = Math.min(h + 1, heads - 1);
          int h2 = Math.min(h + 2, heads - 1);
          int h3 = Math.min(h + 3, heads - 1);
          int q0 = qo + h * headDim;
          int q1 = qo + h1 * headDim;
          int q2 = qo + h2 * headDim;
          int q3 = qo + h3 * headDim;
          FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
          for (int d = 0; d < headDim; d++) {
            FloatVector kd = FloatVector.fromArray(S, k, k0 + d * bs);
            a0 = kd.fma(FloatVector.broadcast(S, q[q0 + d]), a0);
            a1 = kd.fma(FloatVector.broadcast(S, q[q1 + d]), a1);
            a2 = kd.fma(FloatVector.broadcast(S, q[q2 + d]), a2);
            a3 = kd.fma(FloatVector.broadcast(S, q[q3 + d]), a3);
          }
          int at = b * bs + c;
          a0.mul(scale).intoArray(scores, h * span + at);
          a1.mul(scale).intoArray(scores, h1 * span + at);
          a2.mul(scale).intoArray(scores, h2 * span + at);
          a3.mul(scale).intoArray(scores, h3 * span + at);
        }
      }
    }
    for (int h = 0; h < heads; h++) {
      int base = h * span;
      java.util.Arrays.fill(scores, base + len, base + span, Float.NEGATIVE_INFINITY);
      FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
      for (int i = 0; i < span; i += L) {
        m = m.max(FloatVector.fromArray(S, scores, base + i));
      }
      float max = m.reduceLanes(VectorOperators.MAX); // exact in any order
      float inv = 1f / expInto(scores, base, max, 1f, scores, base, span);
      for (int i = 0; i < span; i += L) {
        FloatVector.fromArray(S, scores, base + i).mul(inv).intoArray(scores, base + i);
      }
    }
    // out_h = sum_t p_t v_t; a tile's missing heads repeat its last one (each head's chain is its own)
    int upper = S.loopBound(headDim);
    for (int h = 0; h < heads; h += 4) {
      int h1 = Math.min(h + 1, heads - 1);
      int h2 = Math.min(h + 2, heads - 1);
      int h3 = Math.min(h + 3, heads - 1);
      int p0 = h * span;
      int p1 = h1 * span;
      int p2 = h2 * span;
      int p3 = h3 * span;
      for (int d = 0; d < upper; d += L) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int b = 0; b < blocks; b++) {
          float[] vb = blk[b];
          int v0 = vo[b] + d;
          int t0 = b * bs;
          int slots = Math.min(bs, len - t0);
          for (int j = 0; j < slots; j++) {
            FloatVector v = FloatVector.fromArray(S, vb, v0 + j * headDim);
            a0 = v.fma(FloatVector.broadcast(S, scores[p0 + t0 + j]), a0);
            a1 = v.fma(FloatVector.broadcast(S, scores[p1 + t0 + j]), a1);
            a2 = v.fma(FloatVector.broadcast(S, scores[p2 + t0 + j]), a2);
            a3 = v.fma(FloatVector.broadcast(S, scores[p3 + t0 + j]), a3);
          }
        }
        a0.intoArray(out, qo + h * headDim + d);
        a1.intoArray(out, qo + h1 * headDim + d);
        a2.intoArray(out, qo + h2 * headDim + d);
        a3.intoArray(out, qo + h3 * headDim + d);
      }
    }
    // components past the last full vector: the same chain, one lane at a time
    for (int h = 0; h < heads; h++) {
      for (int d = upper; d < headDim; d++) {
        float a = 0;
        for (int t = 0; t < len; t++) {
          a = Math.fma(blk[t / bs][vo[t / bs] + (t % bs) * headDim + d], scores[h * span + t], a);
        }
        out[qo + h * headDim + d] = a;
      }
    }
  }

  @Override
  public void swiglu(float[] gate, float[] up, int o, int len) {
    int upper = S.loopBound(len);
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (int i = 0; i < upper; i += L) {
      FloatVector z = FloatVector.fromArray(S, gate, o + i);
      FloatVector x = z.neg(); // e^-z: exp() written out (see expInto)
      FloatVector xC = x.max(-87.3f).min(88.3f);
      FloatVector xT = xC.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
      FloatVector xN = xT.sub(ROUND);
      IntVector xBits = xT.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127).lanewise(VectorOperators.LSHL, 23);
      FloatVector xR = xN.fma(FloatVector.broadcast(S, -LN2_HI), xC);
      xR = xN.fma(FloatVector.broadcast(S, -LN2_LO), xR);
      FloatVector xP = FloatVector.broadcast(S, 1.9875691500e-4f);
      xP = xP.fma(xR, FloatVector.broadcast(S, 1.3981999507e-3f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 8.3334519073e-3f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 4.1665795894e-2f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 1.6666665459e-1f));
      xP = xP.fma(xR, FloatVector.broadcast(S, 5.0000001201e-1f));
      FloatVector xY = xP.mul(xR.mul(xR)).add(xR).add(1f);
      xY = xY.mul(xBits.reinterpretAsFloats());
      // below the clamp (and -inf, a masked logit) e^x is 0; NaN stays NaN
      FloatVector e = xY.blend(0f, x.lt(-87.3f)).blend(x, x.test(VectorOperators.IS_NAN));
      FloatVector sig = one.div(e.add(one));
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
    double sum = expInto(z, off, max, scale, out, 0, upper);
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
    float s = sumLanes(s0.add(s1).add(s2.add(s3)));
    for (int i = upper; i < len; i++) {
      s += a[off + i];
    }
    return s;
  }
}
