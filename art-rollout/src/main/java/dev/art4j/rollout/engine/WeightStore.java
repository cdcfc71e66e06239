package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Turns the model's fp32 weight tensors into the {@link WeightMatrix}es the decoder reads: in
 * {@link InferenceDtype#FP32}, a view of the tensor's own memory (no copy); in
 * {@link InferenceDtype#BF16}, a bfloat16 copy in the kernels' panel layout ({@link WeightMatrix})
 * in memory this store owns, off the Java heap; {@link InferenceDtype#AUTO} is decided once, over
 * all the weights, when the store is made.
 *
 * <p>A tensor is read through direct {@link ByteBuffer} views, which stop at 2 GiB: a larger
 * one (the embedding of a large vocabulary times a wide model) is read in row ranges, and in fp32
 * it is copied (an fp32 view cannot span it). The copies are freed by {@link #close()}, after
 * which no matrix of this store may be read.
 */
final class WeightStore implements AutoCloseable {

  private final Arena arena = Arena.ofShared();
  private final InferenceDtype dtype;
  private final long maxView;
  private long copiedBytes;

  /**
   * A store for weights of {@code dtype}; {@link InferenceDtype#AUTO} is resolved over
   * {@code weights}, the tensors {@link #matrix} will be asked for.
   */
  WeightStore(InferenceDtype dtype, List<NDArray> weights) {
    this(dtype, weights, Integer.MAX_VALUE);
  }

  /** A store whose views hold at most {@code maxView} bytes (tests use small ones). */
  WeightStore(InferenceDtype dtype, List<NDArray> weights, long maxView) {
    this.maxView = maxView;
    this.dtype = dtype == InferenceDtype.AUTO ? (allBf16(weights) ? InferenceDtype.BF16 : InferenceDtype.FP32) : dtype;
  }

  /** Whether every value of these fp32 tensors is a bfloat16 value (its low 16 bits zero). */
  private boolean allBf16(List<NDArray> weights) {
    for (NDArray a : weights) {
      if (a.getDataType() != DataType.FLOAT32) {
        return false; // matrix() names the tensor and its type
      }
      long[] s = a.getShape().getShape();
      int rows = s.length == 2 ? Math.toIntExact(s[0]) : 1;
      long cols = s.length == 2 ? s[1] : a.size();
      boolean[] exact = {true};
      forEachRange(a, rows, cols, "weight", (view, at, count) -> {
        for (long i = 0; i < count && exact[0]; i++) {
          exact[0] = (view.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) & 0xFFFF) == 0;
        }
      });
      if (!exact[0]) {
        return false;
      }
    }
    return true;
  }

  InferenceDtype dtype() {
    return dtype;
  }

  /** Bytes of weights this store copied (bf16 copies, and fp32 tensors too large to view). */
  long copiedBytes() {
    return copiedBytes;
  }

  /** The matrix of a 2-d tensor, in this store's dtype. */
  WeightMatrix matrix(NDArray a, String name) {
    return matrix(a, name, dtype);
  }

  /** An fp32 view of a 2-d tensor where one fits, else the matrix in this store's dtype. */
  WeightMatrix lookupTable(NDArray a, String name) {
    return matrix(a, name, InferenceDtype.FP32);
  }

  private WeightMatrix matrix(NDArray a, String name, InferenceDtype want) {
    if (a.getDevice().isGpu()) {
      throw new IllegalArgumentException(name + ": the engine decodes on the CPU, this weight is on " + a.getDevice());
    }
    if (a.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(name + ": the engine reads fp32 weights, got " + a.getDataType());
    }
    long[] s = a.getShape().getShape();
    if (s.length != 2) {
      throw new IllegalArgumentException(name + ": expected a 2-d weight, got " + a.getShape());
    }
    int rows = Math.toIntExact(s[0]);
    int cols = Math.toIntExact(s[1]);
    long bytes = (long) rows * cols * Float.BYTES;
    if (want == InferenceDtype.FP32 && bytes <= maxView) {
      // the tensor's memory itself: the engine must not outlive the policy that owns it
      return new WeightMatrix(view(a, bytes, name), InferenceDtype.FP32, rows, cols);
    }
    InferenceDtype to = dtype; // a lookup table too large to view is held like the matrices
    MemorySegment out = arena.allocate(WeightMatrix.bytes(to, rows, cols), 64);
    copiedBytes += out.byteSize();
    WeightMatrix m = new WeightMatrix(out, to, rows, cols);
    forEachRange(a, rows, cols, name, (view, at, count) -> copy(view, m, at, count));
    return m;
  }

  /** What to do with an fp32 view of {@code count} values starting at flat index {@code at}. */
  private interface RangeAction {
    void accept(MemorySegment view, long at, long count);
  }

  /** Hands {@code action} fp32 views of the tensor's consecutive row ranges, each within the view limit. */
  private void forEachRange(NDArray a, int rows, long cols, String name, RangeAction action) {
    int perRange = (int) Math.max(1, Math.min(rows, maxView / (cols * Float.BYTES)));
    for (int r0 = 0; r0 < rows; r0 += perRange) {
      int r1 = Math.min(rows, r0 + perRange);
      long count = (r1 - r0) * cols;
      if (r0 == 0 && r1 == rows) {
        action.accept(view(a, count * Float.BYTES, name), 0, count);
      } else {
        try (NDArray part = a.get(new NDIndex("{}:{}", r0, r1))) {
          action.accept(view(part, count * Float.BYTES, name), r0 * cols, count);
        }
      }
    }
  }

  private static MemorySegment view(NDArray a, long bytes, String name) {
    ByteBuffer b = a.toByteBuffer(true).order(ByteOrder.nativeOrder());
    if (b.capacity() != bytes) {
      throw new IllegalStateException(name + ": expected " + bytes + " bytes of fp32 data, got " + b.capacity());
    }
    return MemorySegment.ofBuffer(b);
  }

  /** The whole rows {@code src} holds, {@code count} fp32 values from flat index {@code at}, into {@code dst}. */
  private static void copy(MemorySegment src, WeightMatrix dst, long at, long count) {
    if (dst.dtype() == InferenceDtype.FP32) {
      MemorySegment.copy(src, 0, dst.data(), at * Float.BYTES, count * Float.BYTES);
      return;
    }
    int cols = dst.cols();
    int first = (int) (at / cols);
    for (int r = first; r < first + count / cols; r++) {
      long from = (long) (r - first) * cols;
      for (int c = 0; c < cols; c++) {
        dst.data().setAtIndex(WeightMatrix.BF16, dst.bf16Index(r, c), WeightMatrix.narrow(src.getAtIndex(WeightMatrix.F32, from + c)));
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }
}
