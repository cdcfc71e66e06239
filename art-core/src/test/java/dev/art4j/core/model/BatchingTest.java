package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Padding, batching and the KV cache leave the numbers unchanged. */
class BatchingTest {

  static final double TOL = 1e-4;
  static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  static long[][] sequences(int vocab, long seed, int... lengths) {
    Random r = new Random(seed);
    long[][] out = new long[lengths.length][];
    for (int i = 0; i < lengths.length; i++) {
      out[i] = r.longs(lengths[i], 0, vocab).toArray();
    }
    return out;
  }

  /** Logits of one unpadded sequence (T, V). */
  static float[][] single(Transformer model, Lora adapter, long[] ids) {
    try (NDManager step = manager.newSubManager()) {
      NDArray logits = model.forward(step.create(ids).reshape(1, ids.length), adapter).get(0);
      return rows(logits);
    }
  }

  static float[][] rows(NDArray tv) {
    int t = (int) tv.getShape().get(0);
    float[][] out = new float[t][];
    for (int i = 0; i < t; i++) {
      out[i] = tv.get(i).toFloatArray();
    }
    return out;
  }

  static void assertClose(float[] want, float[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int v = 0; v < want.length; v++) {
      assertEquals(want[v], got[v], TOL, what + " vocab " + v);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen3", "tiny-llama-bf16"})
  void paddedBatchEqualsUnbatched(String name) throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model(name), manager);
        Lora adapter = name.equals("tiny-qwen2")
            ? Lora.load(Fixtures.model(name).resolve("adapter"), model.config(), manager) : null) {
      long[][] seqs = sequences(model.config().vocabSize(), 7, 5, 2, 8);
      float[][][] want = new float[seqs.length][][];
      for (int i = 0; i < seqs.length; i++) {
        want[i] = single(model, adapter, seqs[i]);
      }
      for (boolean left : new boolean[] {true, false}) {
        int width = 8;
        long[][] ids = new long[seqs.length][width];
        long[][] pos = new long[seqs.length][width];
        long[][] mask = new long[seqs.length][width];
        for (int b = 0; b < seqs.length; b++) {
          int offset = left ? width - seqs[b].length : 0;
          for (int j = 0; j < seqs[b].length; j++) {
            ids[b][offset + j] = seqs[b][j];
            pos[b][offset + j] = j;
            mask[b][offset + j] = 1;
          }
        }
        try (NDManager step = manager.newSubManager()) {
          NDArray logits = model.forward(step.create(ids), step.create(pos), step.create(mask), null, adapter);
          assertEquals(new Shape(seqs.length, width, model.config().vocabSize()), logits.getShape());
          for (int b = 0; b < seqs.length; b++) {
            int offset = left ? width - seqs[b].length : 0;
            for (int j = 0; j < seqs[b].length; j++) {
              assertClose(want[b][j], logits.get(b, offset + j).toFloatArray(),
                  name + (left ? " left" : " right") + " padded seq " + b + " token " + j);
            }
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen3"})
  void prefillPlusCachedStepsEqualsFullForward(String name) throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model(name), manager);
        Lora adapter = name.equals("tiny-qwen2")
            ? Lora.load(Fixtures.model(name).resolve("adapter"), model.config(), manager) : null) {
      // two sequences, the first left-padded by 2 in the prompt; 6 decode steps of 1 token
      long[][] seqs = sequences(model.config().vocabSize(), 11, 11, 13);
      int prompt = 7;
      int steps = 6;
      float[][][] want = new float[2][][];
      for (int b = 0; b < 2; b++) {
        want[b] = single(model, adapter, seqs[b]);
      }
      int[] pad = {2, 0};
      long[][] ids = new long[2][prompt];
      long[][] pos = new long[2][prompt];
      long[][] mask = new long[2][prompt + steps];
      for (int b = 0; b < 2; b++) {
        for (int j = pad[b]; j < prompt; j++) {
          ids[b][j] = seqs[b][j - pad[b]];
          pos[b][j] = j - pad[b];
        }
        for (int j = pad[b]; j < prompt + steps; j++) {
          mask[b][j] = 1;
        }
      }
      // capacity 4 < prompt forces the cache to grow, twice
      try (ReferenceKvCache cache = ReferenceKvCache.create(model.config(), 4, manager)) {
        try (NDManager step = manager.newSubManager()) {
          NDArray full = step.create(mask);
          NDArray logits = model.forward(step.create(ids), step.create(pos),
              full.get(new NDIndex(":, :{}", prompt)), cache, adapter);
          for (int b = 0; b < 2; b++) {
            assertClose(want[b][prompt - pad[b] - 1], logits.get(b, prompt - 1).toFloatArray(), name + " prefill " + b);
          }
        }
        assertEquals(prompt, cache.length());
        for (int s = 0; s < steps; s++) {
          try (NDManager step = manager.newSubManager()) {
            long[][] next = new long[2][1];
            long[][] nextPos = new long[2][1];
            for (int b = 0; b < 2; b++) {
              next[b][0] = seqs[b][prompt - pad[b] + s];
              nextPos[b][0] = prompt - pad[b] + s;
            }
            NDArray m = step.create(mask).get(new NDIndex(":, :{}", prompt + s + 1));
            NDArray logits = model.forward(step.create(next), step.create(nextPos), m, cache, adapter);
            assertEquals(new Shape(2, 1, model.config().vocabSize()), logits.getShape());
            for (int b = 0; b < 2; b++) {
              assertClose(want[b][prompt - pad[b] + s], logits.get(b, 0).toFloatArray(), name + " step " + s + " seq " + b);
            }
          }
        }
        assertEquals(prompt + steps, cache.length());
      }
    }
  }

  @Test
  void sharedPrefillFansOutToAGroup() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen3"), manager);
        ReferenceKvCache cache = ReferenceKvCache.create(model.config(), 16, manager)) {
      long[] prompt = {4, 8, 15, 16, 23};
      long[] next = {42, 7, 99};
      try (NDManager step = manager.newSubManager()) {
        model.forward(step.create(prompt).reshape(1, prompt.length),
            step.arange(0L, (long) prompt.length).toType(DataType.INT64, false).reshape(1, -1), null, cache, null);
      }
      cache.selectRows(0, 0, 0);
      assertEquals(3, cache.batchSize());
      try (NDManager step = manager.newSubManager()) {
        NDArray logits = model.forward(step.create(next).reshape(3, 1),
            step.full(new Shape(3, 1), prompt.length, DataType.INT64),
            step.ones(new Shape(3, prompt.length + 1), DataType.INT64), cache, null);
        for (int b = 0; b < 3; b++) {
          long[] full = java.util.Arrays.copyOf(prompt, prompt.length + 1);
          full[prompt.length] = next[b];
          assertClose(single(model, null, full)[prompt.length], logits.get(b, 0).toFloatArray(), "row " + b);
        }
      }
      // drop the middle row; the others continue
      cache.selectRows(2, 0);
      try (NDManager step = manager.newSubManager()) {
        NDArray logits = model.forward(step.create(new long[] {1, 2}).reshape(2, 1),
            step.full(new Shape(2, 1), prompt.length + 1, DataType.INT64),
            step.ones(new Shape(2, prompt.length + 2), DataType.INT64), cache, null);
        long[] rowOf = {2, 0};
        for (int b = 0; b < 2; b++) {
          long[] full = java.util.Arrays.copyOf(prompt, prompt.length + 2);
          full[prompt.length] = next[(int) rowOf[b]];
          full[prompt.length + 1] = b + 1;
          assertClose(single(model, null, full)[prompt.length + 1], logits.get(b, 0).toFloatArray(), "kept row " + b);
        }
      }
      assertThrows(IllegalArgumentException.class, () -> cache.selectRows(5));
    }
  }

  @Test
  void forwardLeavesNothingInLongLivedManagers() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen2"), manager);
        Lora adapter = Lora.load(Fixtures.model("tiny-qwen2").resolve("adapter"), model.config(), manager);
        ReferenceKvCache cache = ReferenceKvCache.create(model.config(), 64, manager)) {
      int weights = model.manager().getManagedArrays().size();
      int lora = adapter.manager().getManagedArrays().size();
      long[] ids = sequences(256, 3, 9)[0];
      for (int i = 0; i < 20; i++) {
        try (NDManager step = manager.newSubManager()) {
          NDArray input = step.create(i == 0 ? ids : new long[] {ids[i % ids.length]}).reshape(1, -1);
          int len = (int) input.getShape().get(1);
          long[] pos = new long[len];
          for (int j = 0; j < len; j++) {
            pos[j] = cache.length() + j;
          }
          NDArray mask = step.ones(new Shape(1, cache.length() + len), DataType.INT64);
          model.forward(input, step.create(pos).reshape(1, len), mask, cache, adapter);
        }
      }
      assertEquals(weights, model.manager().getManagedArrays().size(), "arrays left in the weights' manager");
      assertEquals(lora, adapter.manager().getManagedArrays().size(), "arrays left in the adapter's manager");
      assertEquals(9 + 19, cache.length());
    }
  }

  @Test
  void weightFirstOpsFailInsteadOfLeaking() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen2"), manager);
        NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(new long[] {1, 2});
      assertThrows(IllegalStateException.class, () -> model.weights().embedding().get(ids));
    }
  }

  @Test
  void maskOfWrongWidthIsRejected() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen2"), manager);
        NDManager step = manager.newSubManager()) {
      NDArray ids = step.create(new long[] {1, 2, 3}).reshape(1, 3);
      NDArray pos = step.create(new long[] {0, 1, 2}).reshape(1, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.forward(ids, pos, step.ones(new Shape(1, 2), DataType.INT64), null, null));
      assertTrue(e.getMessage().contains("attentionMask"), e.getMessage());
    }
  }
}
