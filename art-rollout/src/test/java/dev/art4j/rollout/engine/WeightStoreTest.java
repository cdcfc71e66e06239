package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightStoreTest {

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @Test
  void fp32IsAViewAndBf16ACopyRoundedToNearest() {
    int rows = 37;
    int cols = 19;
    float[] v = random(rows * cols, 1);
    try (NDManager m = NDManager.newBaseManager();
        WeightStore fp32 = new WeightStore(InferenceDtype.FP32, List.of());
        WeightStore bf16 = new WeightStore(InferenceDtype.BF16, List.of())) {
      NDArray a = m.create(v, new Shape(rows, cols));
      WeightMatrix f = fp32.matrix(a, "w");
      WeightMatrix b = bf16.matrix(a, "w");
      assertEquals(0, fp32.copiedBytes(), "fp32 reads the tensor in place");
      assertEquals(WeightMatrix.bytes(InferenceDtype.BF16, rows, cols), bf16.copiedBytes());
      assertEquals(64L * 20 * 2, bf16.copiedBytes(), "37 rows padded to 64 (two 16-row panels, twice), 19 columns to 20");
      assertEquals(InferenceDtype.BF16, b.dtype());
      for (int i = 0; i < v.length; i++) {
        assertEquals(v[i], f.get(i), 0f);
        assertEquals(WeightMatrix.widen(WeightMatrix.narrow(v[i])), b.get(i), 0f);
        assertTrue(Math.abs(b.get(i) - v[i]) <= Math.abs(v[i]) * 0x1p-8f, "bf16 within half an ulp at " + i);
      }
      // the lookup table stays an fp32 view in either store
      WeightMatrix t = bf16.lookupTable(a, "embedding");
      assertEquals(InferenceDtype.FP32, t.dtype());
      assertEquals(v[100], t.get(100), 0f);
    }
  }

  @Test
  void aTensorOverTheViewLimitIsReadInRowRanges() {
    int rows = 41;
    int cols = 23;
    float[] v = random(rows * cols, 2);
    // a view limit of 5 rows stands in for the 2 GiB of a ByteBuffer
    long limit = 5L * cols * Float.BYTES;
    try (NDManager m = NDManager.newBaseManager();
        WeightStore fp32 = new WeightStore(InferenceDtype.FP32, List.of(), limit);
        WeightStore bf16 = new WeightStore(InferenceDtype.BF16, List.of(), limit)) {
      NDArray a = m.create(v, new Shape(rows, cols));
      WeightMatrix f = fp32.matrix(a, "w");
      WeightMatrix b = bf16.matrix(a, "w");
      WeightMatrix t = bf16.lookupTable(a, "embedding");
      assertEquals((long) rows * cols * 4, fp32.copiedBytes(), "too large to view: copied");
      assertEquals(InferenceDtype.BF16, t.dtype(), "a lookup table too large to view is held in the store's dtype");
      for (int i = 0; i < v.length; i++) {
        assertEquals(v[i], f.get(i), 0f, "fp32 at " + i);
        assertEquals(WeightMatrix.widen(WeightMatrix.narrow(v[i])), b.get(i), 0f, "bf16 at " + i);
        assertEquals(b.get(i), t.get(i), 0f, "lookup at " + i);
      }
    }
  }

  @Test
  void autoIsBf16OnlyWhereEveryWeightIsABf16Value() {
    float[] v = random(12 * 10, 3);
    float[] rounded = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      rounded[i] = WeightMatrix.widen(WeightMatrix.narrow(v[i]));
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray exact = m.create(rounded, new Shape(12, 10));
      NDArray lossy = m.create(v, new Shape(12, 10));
      // a view limit of 3 rows: the check walks row ranges as the copy does
      try (WeightStore s = new WeightStore(InferenceDtype.AUTO, List.of(exact, exact), 3 * 10 * 4)) {
        assertEquals(InferenceDtype.BF16, s.dtype());
      }
      rounded[rounded.length - 1] = Math.nextUp(rounded[rounded.length - 1]); // one value off, in the last range
      try (WeightStore s = new WeightStore(InferenceDtype.AUTO, List.of(exact, m.create(rounded, new Shape(12, 10))), 3 * 10 * 4)) {
        assertEquals(InferenceDtype.FP32, s.dtype());
      }
      try (WeightStore s = new WeightStore(InferenceDtype.AUTO, List.of(lossy))) {
        assertEquals(InferenceDtype.FP32, s.dtype());
      }
    }
  }

  @Test
  void aWeightThatIsNotAMatrixIsNamed() {
    try (NDManager m = NDManager.newBaseManager(); WeightStore s = new WeightStore(InferenceDtype.BF16, List.of())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.matrix(m.create(new float[4]), "model.layers.3.mlp.up_proj"));
      assertTrue(e.getMessage().startsWith("model.layers.3.mlp.up_proj: expected a 2-d weight"), e.getMessage());
      assertEquals("inference dtype must be auto, bf16 or fp32, got 'fp16'",
          assertThrows(IllegalArgumentException.class, () -> InferenceDtype.parse("fp16")).getMessage());
    }
  }
}
