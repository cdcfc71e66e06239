package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API kernels against the plain-Java ones, on shapes that exercise every tail path. */
class KernelsTest {

  private final Kernels vector = Kernels.best();
  private final Kernels scalar = new ScalarKernels();

  @Test
  void surefireRunsTheVectorKernels() {
    assertInstanceOf(VectorKernels.class, vector, "tests run with --add-modules jdk.incubator.vector");
  }

  @Test
  void matmulMatchesForEveryTileAndTail() {
    SplittableRandom r = new SplittableRandom(1);
    for (int rows : new int[] {1, 3, 4, 7, 13, 21}) {
      for (int cols : new int[] {1, 15, 16, 17, 40, 96}) {
        for (int n = 1; n <= 9; n++) {
          ByteBuffer buf = ByteBuffer.allocateDirect(rows * cols * 4).order(ByteOrder.nativeOrder());
          MemorySegment w = MemorySegment.ofBuffer(buf);
          for (int i = 0; i < rows * cols; i++) {
            buf.putFloat(i * 4, (float) r.nextGaussian());
          }
          int xStride = cols + 3;
          float[] x = new float[n * xStride];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
          }
          int yStride = rows + 2;
          float[] got = new float[n * yStride];
          float[] want = new float[n * yStride];
          // two calls over a split row range, as the worker pool makes them
          int mid = rows / 2;
          vector.matmul(w, cols, x, xStride, n, got, yStride, 0, mid);
          vector.matmul(w, cols, x, xStride, n, got, yStride, mid, rows);
          scalar.matmul(w, cols, x, xStride, n, want, yStride, 0, rows);
          for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4 * Math.sqrt(cols), rows + "x" + cols + " n=" + n + " at " + i);
          }
          // a row's result does not depend on the other rows of the batch
          float[] alone = new float[yStride];
          vector.matmul(w, cols, x, xStride, 1, alone, yStride, 0, mid);
          vector.matmul(w, cols, x, xStride, 1, alone, yStride, mid, rows);
          for (int j = 0; j < rows; j++) {
            assertEquals(alone[j], got[j], 0f, "row 0 alone vs in a batch of " + n);
          }
        }
      }
    }
  }

  @Test
  void bf16MatmulMatchesForEveryTileAndTailAndIsBatchInvariant() {
    SplittableRandom r = new SplittableRandom(4);
    // rows: partial panels, an odd number of 16-row groups, and ranges split at 32-row boundaries
    for (int rows : new int[] {1, 3, 16, 17, 31, 33, 48, 67, 100}) {
      // odd columns end on half a pair; 1056 and 2101: long rows (the down projection has 4864 columns)
      for (int cols : new int[] {1, 2, 15, 32, 33, 64, 100, 1056, 2101}) {
        // 1: the streaming tiles; 2..7: single-row tiles; 4, 8, 12, 16, 21: the four- and eight-row tiles
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 21}) {
          WeightMatrix w = new WeightMatrix(Arena.ofAuto().allocate(WeightMatrix.bytes(InferenceDtype.BF16, rows, cols), 64),
              InferenceDtype.BF16, rows, cols);
          float[] wide = new float[rows * cols];
          for (int j = 0; j < rows; j++) {
            for (int i = 0; i < cols; i++) {
              short b = WeightMatrix.narrow((float) r.nextGaussian());
              w.data().setAtIndex(WeightMatrix.BF16, w.bf16Index(j, i), b);
              wide[j * cols + i] = WeightMatrix.widen(b);
            }
          }
          int xStride = cols + 3;
          float[] x = new float[n * xStride];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
          }
          int yStride = rows + 2;
          float[] got = new float[n * yStride];
          float[] want = new float[n * yStride];
          int mid = rows / 2 / 32 * 32;
          vector.matmulBf16(w, x, xStride, n, got, yStride, 0, mid);
          vector.matmulBf16(w, x, xStride, n, got, yStride, mid, rows);
          scalar.matmulBf16(w, x, xStride, n, want, yStride, 0, rows);
          for (int b = 0; b < n; b++) {
            for (int j = 0; j < rows; j++) {
              double exact = 0;
              for (int i = 0; i < cols; i++) {
                exact += (double) wide[j * cols + i] * x[b * xStride + i];
              }
              String at = rows + "x" + cols + " n=" + n + " row " + b + " out " + j;
              assertEquals(exact, want[b * yStride + j], 1e-4 * Math.sqrt(cols), "scalar " + at);
              // one fused multiply-add chain in column order in both: the same bits
              assertEquals(want[b * yStride + j], got[b * yStride + j], 0f, "vector " + at);
            }
            assertEquals(0f, got[b * yStride + rows], "no write past the range's rows");
          }
          // every input row gives the same bits alone as in any batch
          for (int b = 0; b < n; b++) {
            float[] one = new float[xStride];
            System.arraycopy(x, b * xStride, one, 0, xStride);
            float[] alone = new float[yStride];
            vector.matmulBf16(w, one, xStride, 1, alone, yStride, 0, rows);
            for (int j = 0; j < rows; j++) {
              assertEquals(alone[j], got[b * yStride + j], 0f, rows + "x" + cols + " row " + b + " alone vs in a batch of " + n);
            }
          }
        }
      }
    }
  }

  @Test
  void bf16PanelLayoutPlacesEachPairOfColumnsOfSixteenRowsInOneBlock() {
    int rows = 40;
    int cols = 7;
    WeightMatrix w = new WeightMatrix(Arena.ofAuto().allocate(WeightMatrix.bytes(InferenceDtype.BF16, rows, cols), 64),
        InferenceDtype.BF16, rows, cols);
    assertEquals(64L * 8 * 2, w.data().byteSize(), "rows padded to 64 (two panels of 16, twice), columns to 8");
    assertEquals(16L * 8 * 2, w.panelBytes());
    assertEquals(0, w.bf16Index(0, 0));
    assertEquals(1, w.bf16Index(0, 1), "columns k, k+1 of a row: one 32-bit lane");
    assertEquals(2, w.bf16Index(1, 0), "the next row: the next lane");
    assertEquals(32, w.bf16Index(0, 2), "the next pair of columns: the next 64-byte block");
    assertEquals(16 * 8 + 3 * 2 + 2 * 32 + 1, w.bf16Index(19, 5), "row 19: panel 1, lane 3; column 5: block 2, high half");
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int j = 0; j < rows; j++) {
      for (int i = 0; i < cols; i++) {
        long at = w.bf16Index(j, i);
        assertTrue(at >= 0 && at < w.data().byteSize() / 2 && seen.add(at), "one word per element at " + j + "," + i);
      }
    }
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals((short) 0x3F80, WeightMatrix.narrow(1f));
    // 1 + 2^-8 lies halfway between two bf16 values: ties go to the even one (1.0)
    assertEquals((short) 0x3F80, WeightMatrix.narrow(Float.intBitsToFloat(0x3F808000)));
    // 1 + 3 * 2^-8 lies halfway too: up to the even one
    assertEquals((short) 0x3F82, WeightMatrix.narrow(Float.intBitsToFloat(0x3F818000)));
    assertEquals((short) 0x3F81, WeightMatrix.narrow(Float.intBitsToFloat(0x3F808001)));
    assertEquals(-2.5f, WeightMatrix.widen(WeightMatrix.narrow(-2.5f)));
    assertTrue(Float.isNaN(WeightMatrix.widen(WeightMatrix.narrow(Float.NaN))));
    assertEquals(Float.POSITIVE_INFINITY, WeightMatrix.widen(WeightMatrix.narrow(Float.POSITIVE_INFINITY)));
  }

  @Test
  void elementwiseKernelsMatch() {
    SplittableRandom r = new SplittableRandom(2);
    for (int len : new int[] {1, 15, 16, 33, 100}) {
      float[] a = new float[len + 5];
      float[] b = new float[len + 5];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) r.nextGaussian() * 3;
        b[i] = (float) r.nextGaussian();
      }
      assertEquals(scalar.dot(a, 2, b, 3, len), vector.dot(a, 2, b, 3, len), 1e-4 * len);
      assertEquals(scalar.sum(a, 1, len), vector.sum(a, 1, len), 1e-4 * len);
      float[] y1 = b.clone();
      float[] y2 = b.clone();
      scalar.axpy(0.7f, a, 1, y1, 2, len);
      vector.axpy(0.7f, a, 1, y2, 2, len);
      assertArraysClose(y1, y2, 1e-5);
      float[] g1 = a.clone();
      float[] g2 = a.clone();
      scalar.swiglu(g1, b, 1, len);
      vector.swiglu(g2, b, 1, len);
      assertArraysClose(g1, g2, 1e-5);
      float[] e1 = new float[len];
      float[] e2 = new float[len];
      double s1 = scalar.expShifted(a, 3, len, 2f, 0.5f, e1);
      double s2 = vector.expShifted(a, 3, len, 2f, 0.5f, e2);
      assertEquals(s1, s2, 1e-5 * s1);
      assertArraysClose(e1, e2, 1e-5);
    }
  }

  @Test
  void vectorExpIsWithinTwoUlpAndZeroForMaskedLogits() {
    SplittableRandom r = new SplittableRandom(3);
    int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    float[] x = new float[lanes * 4096];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 176 - 88);
    }
    x[0] = Float.NEGATIVE_INFINITY;
    x[1] = -100f;
    x[2] = 0f;
    x[3] = Float.NaN;
    float[] y = new float[x.length];
    for (int o = 0; o < x.length; o += lanes) {
      VectorKernels.exp(jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, x, o))
          .intoArray(y, o);
    }
    assertEquals(0f, y[0]);
    assertEquals(0f, y[1]);
    assertEquals(1f, y[2]);
    assertTrue(Float.isNaN(y[3]));
    for (int i = 4; i < x.length; i++) {
      float want = (float) Math.exp(x[i]);
      if (x[i] < -87.3f || x[i] > 88.3f) {
        continue;
      }
      assertEquals(want, y[i], 2 * Math.ulp(want), "exp(" + x[i] + ")");
    }
  }

  /**
   * Causal attention over a paged cache (keys transposed per block), against softmax(q K^T) V in
   * doubles: every head count (tiles of four and the rest), head widths with and without a
   * vector tail, lengths inside, at and past block boundaries; and a head's output does not
   * depend on the other heads computed with it.
   */
  @Test
  void attentionMatchesSoftmaxOverThePagedCacheAndEachHeadStandsAlone() {
    SplittableRandom r = new SplittableRandom(5);
    int bs = KvPool.BLOCK;
    for (int headDim : new int[] {4, 16, 20, 64}) {
      for (int heads : new int[] {1, 3, 4, 7}) {
        for (int len : new int[] {1, 5, 16, 17, 40}) {
          int blocks = KvPool.blocksFor(len);
          // blocks scattered in one slab, in reverse order, keys and values in separate tiles
          float[] slab = new float[(2 * blocks + 1) * bs * headDim];
          float[][] blk = new float[blocks][];
          int[] ko = new int[blocks];
          int[] vo = new int[blocks];
          double[][] k = new double[len][headDim];
          double[][] v = new double[len][headDim];
          for (int b = 0; b < blocks; b++) {
            blk[b] = slab;
            ko[b] = (2 * (blocks - 1 - b) + 1) * bs * headDim;
            vo[b] = (2 * (blocks - 1 - b)) * bs * headDim;
          }
          for (int i = 0; i < slab.length; i++) {
            slab[i] = (float) r.nextGaussian(); // padding slots too: they must not count
          }
          for (int t = 0; t < len; t++) {
            for (int d = 0; d < headDim; d++) {
              k[t][d] = slab[ko[t / bs] + d * bs + t % bs];
              v[t][d] = slab[vo[t / bs] + (t % bs) * headDim + d];
            }
          }
          int qo = 3;
          float[] q = new float[qo + heads * headDim];
          for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
          }
          float scale = (float) (1 / Math.sqrt(headDim));
          float[] scores = new float[heads * blocks * bs];
          float[] got = new float[q.length];
          float[] want = new float[q.length];
          vector.attention(q, qo, heads, headDim, len, scale, blk, ko, vo, got, scores);
          scalar.attention(q, qo, heads, headDim, len, scale, blk, ko, vo, want, scores);
          for (int h = 0; h < heads; h++) {
            double[] s = new double[len];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < len; t++) {
              for (int d = 0; d < headDim; d++) {
                s[t] += q[qo + h * headDim + d] * k[t][d] * scale;
              }
              max = Math.max(max, s[t]);
            }
            double sum = 0;
            for (int t = 0; t < len; t++) {
              s[t] = Math.exp(s[t] - max);
              sum += s[t];
            }
            float[] alone = new float[qo + heads * headDim];
            vector.attention(q, qo + h * headDim, 1, headDim, len, scale, blk, ko, vo, alone, scores);
            for (int d = 0; d < headDim; d++) {
              double exact = 0;
              for (int t = 0; t < len; t++) {
                exact += s[t] / sum * v[t][d];
              }
              int at = qo + h * headDim + d;
              String what = "headDim " + headDim + " heads " + heads + " len " + len + " head " + h + " d " + d;
              assertEquals(exact, got[at], 1e-5 * Math.sqrt(len * headDim), "vector " + what);
              assertEquals(exact, want[at], 1e-5 * Math.sqrt(len * headDim), "scalar " + what);
              assertEquals(got[at], alone[at], "alone vs in a tile of heads, " + what);
            }
          }
        }
      }
    }
  }

  /** The matmul tiles' lane sum through a stored buffer is sumLanes' tree, to the bit (batch invariance across kernels). */
  @Test
  void storedLaneSumIsTheVectorTreeToTheBit() {
    SplittableRandom r = new SplittableRandom(6);
    var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
    float[] v = new float[species.length()];
    float[] buf = new float[Math.max(16, species.length())];
    for (int trial = 0; trial < 2000; trial++) {
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
      }
      jdk.incubator.vector.FloatVector vec = jdk.incubator.vector.FloatVector.fromArray(species, v, 0);
      vec.intoArray(buf, 0);
      assertEquals(Float.floatToRawIntBits(VectorKernels.sumLanes(vec)), Float.floatToRawIntBits(VectorKernels.lanes(buf)),
          "trial " + trial);
    }
  }

  private static void assertArraysClose(float[] want, float[] got, double tol) {
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), "index " + i);
    }
  }
}
