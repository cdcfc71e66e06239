package dev.art4j.rollout.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A row-major (rows, cols) weight matrix as the engine's kernels read it: fp32 in native byte
 * order, or bfloat16 as little-endian 16-bit words, in a memory segment (off the Java heap, any
 * size).
 */
record WeightMatrix(MemorySegment data, InferenceDtype dtype, int rows, int cols) {

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  WeightMatrix {
    if (data.byteSize() != (long) rows * cols * dtype.bytes()) {
      throw new IllegalArgumentException("a (" + rows + ", " + cols + ") " + dtype + " matrix needs "
          + (long) rows * cols * dtype.bytes() + " bytes, got " + data.byteSize());
    }
  }

  /** Element {@code i} of the flat row-major data, widened to fp32. */
  float get(long i) {
    return dtype == InferenceDtype.BF16 ? widen(data.getAtIndex(BF16, i)) : data.getAtIndex(F32, i);
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
