package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PolicyTest {

  static float[] logits(Policy policy, long... ids) {
    try (NDManager step = policy.manager().newSubManager()) {
      return policy.model().forward(step.create(ids).reshape(1, ids.length), policy.adapter()).toFloatArray();
    }
  }

  @Test
  void float16WeightsComputeTheSameLogitsRoughly() throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    try (Policy fp32 = Policy.builder(dir).adapter(dir.resolve("adapter")).build();
        Policy fp16 = Policy.builder(dir).adapter(dir.resolve("adapter")).dataType(ai.djl.ndarray.types.DataType.FLOAT16).build()) {
      assertEquals(ai.djl.ndarray.types.DataType.FLOAT16, fp16.model().weights().layers().get(0).wq().getDataType());
      float[] want = logits(fp32, 5, 17, 42, 7, 99);
      float[] got = logits(fp16, 5, 17, 42, 7, 99);
      assertEquals(want.length, got.length);
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], got[i], 0.1 + 0.01 * Math.abs(want[i]), "logit " + i);
      }
    }
  }

  /**
   * A forward leaves only the arrays shared by all layers and its result in the step's manager:
   * each layer's intermediates (dozens per layer, a 512-token batch of a 0.5B model held
   * gigabytes of them) are closed as the layer returns, with or without a KV cache.
   */
  @Test
  void forwardClosesEachLayersIntermediates() throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    try (Policy policy = Policy.builder(dir).adapter(dir.resolve("adapter")).build();
        NDManager step = policy.manager().newSubManager()) {
      int layers = policy.config().numHiddenLayers();
      policy.model().forward(step.create(new long[] {5, 17, 42, 7}).reshape(1, 4), policy.adapter());
      int plain = step.getManagedArrays().size();
      try (NDManager other = policy.manager().newSubManager();
          ReferenceKvCache cache = ReferenceKvCache.create(policy.config(), 2, other)) {
        policy.model().forward(other.create(new long[] {5, 17, 42, 7}).reshape(1, 4),
            other.create(new long[] {0, 1, 2, 3}).reshape(1, 4), null, cache, policy.adapter());
        int cached = other.getManagedArrays().size();
        // a layer makes ~50 arrays; what stays is the input, rotary tables, mask and the result
        assertTrue(plain < 25 && cached < 25, "arrays left after a " + layers + "-layer forward: " + plain
            + " (with a cache: " + cached + ")");
        assertEquals(4, cache.length(), "the cache survives the layers' scopes");
      }
    }
  }

  @Test
  void loadsBaseAdapterAndTokenizer() throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    try (Policy base = Policy.load(dir);
        Policy adapted = Policy.builder(dir).adapter(dir.resolve("adapter")).device(Device.cpu()).build()) {
      assertNull(base.adapter());
      assertTrue(base.tokenizer().isEmpty());
      assertEquals(Device.cpu(), base.device());
      assertEquals("qwen2", adapted.config().modelType());
      float[] b = logits(base, 1, 2, 3);
      float[] a = logits(adapted, 1, 2, 3);
      assertFalse(java.util.Arrays.equals(a, b));
      // switching the adapter off per call gives the base model back
      Lora previous = adapted.setAdapter(null);
      assertArrayEquals(b, logits(adapted, 1, 2, 3));
      assertNull(adapted.setAdapter(previous));
      assertSame(previous, adapted.adapter());
      assertArrayEquals(a, logits(adapted, 1, 2, 3));
      Lora fresh = adapted.newAdapter(new LoraConfig(2, 4, 0), 9);
      adapted.setAdapter(fresh);
      assertArrayEquals(b, logits(adapted, 1, 2, 3));
      // an adapter for another architecture is refused
      try (Policy other = Policy.load(Fixtures.model("tiny-qwen3"))) {
        assertThrows(IllegalArgumentException.class, () -> adapted.setAdapter(other.newAdapter(new LoraConfig(2, 4, 0), 1)));
      }
    }
    try (Policy chat = Policy.load(Fixtures.model("tiny-chat"))) {
      assertTrue(chat.tokenizer().isPresent());
      assertEquals(258, chat.tokenizer().get().eosTokenIds().get(0));
    }
  }
}
