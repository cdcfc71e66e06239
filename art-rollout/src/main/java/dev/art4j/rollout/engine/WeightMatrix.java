package dev.art4j.rollout.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A (rows, cols) weight matrix as the engine's kernels read it, in a memory segment (off the Java
 * heap, any size): fp32 row-major in native byte order, or bfloat16 in panels.
 *
 * <p>The bf16 panel layout: rows are cut into panels of {@link #PANEL} and columns into pairs;
 * panel {@code p} is one contiguous run of {@code cols/2} blocks, block {@code k/2} holding, for
 * each of the panel's rows {@code j} in turn, the little-endian words {@code W[16p + j][k]} and
 * {@code W[16p + j][k + 1]}. So one 64-byte load is a whole panel's two columns {@code k, k + 1}:
 * shifted left by 16 its int lanes are column {@code k} of sixteen rows in fp32, masked they are
 * column {@code k + 1}. A kernel multiplies them by the broadcast input values {@code x[k]},
 * {@code x[k + 1]}, each weight load serving every input row of a batch, and keeps one fp32
 * accumulator lane per (row, input) in which the products add up in column order:
 *
 * <pre>
 *   y[b][r] = fma(W[r][cols-1], x[b][cols-1], ... fma(W[r][1], x[b][1], fma(W[r][0], x[b][0], 0)))
 * </pre>
 *
 * the same chain whatever the batch or tile, which is what keeps rows batch-invariant. Rows are
 * padded with zeros to a multiple of two panels and columns to an even count.
 */
record WeightMatrix(MemorySegment data, InferenceDtype dtype, int rows, int cols) {

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Rows per bf16 panel: one 512-bit load holds two columns of them. */
  static final int PANEL = 16;

  WeightMatrix {
    long want = bytes(dtype, rows, cols);
    if (data.byteSize() != want) {
      throw new IllegalArgumentException("a (" + rows + ", " + cols + ") " + dtype + " matrix needs " + want
          + " bytes, got " + data.byteSize());
    }
  }

  /** The bytes a (rows, cols) matrix of {@code dtype} takes, bf16 padding included. */
  static long bytes(InferenceDtype dtype, int rows, int cols) {
    if (dtype != InferenceDtype.BF16) {
      return (long) rows * cols * dtype.bytes();
    }
    long paddedRows = (rows + 2L * PANEL - 1) / (2 * PANEL) * (2 * PANEL);
    return paddedRows * evenCols(cols) * 2;
  }

  private static int evenCols(int cols) {
    return cols + (cols & 1);
  }

  /** Bytes from one bf16 panel to the next. */
  long panelBytes() {
    return (long) PANEL * evenCols(cols) * 2;
  }

  /** The index of {@code W[r][c]} among a bf16 matrix's 16-bit words. */
  long bf16Index(int r, int c) {
    return (long) (r / PANEL) * PANEL * evenCols(cols) + (long) (c >> 1) * 2 * PANEL + (r % PANEL) * 2 + (c & 1);
  }

  /** Element {@code i} of the matrix in row-major order, widened to fp32. */
  float get(long i) {
    if (dtype == InferenceDtype.BF16) {
      return widen(data.getAtIndex(BF16, bf16Index((int) (i / cols), (int) (i % cols))));
    }
    return data.getAtIndex(F32, i);
  }

  /** The fp32 value of a bfloat16: its bits are the upper half of the fp32 ones. */
  static float widen(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  /** The bfloat16 nearest to {@code f} (ties to even; a NaN stays a quiet NaN). */
  static short narrow(float f) {
    int b = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((b >>> 16) | 0x40);
    }
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }
}
