package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FLOAT16 base model (as on a GPU; here on the CPU) trains fp32 LoRA weights and fp32
 * optimizer state, every array on the policy's device, and its checkpoint loads into an fp32
 * policy that then gives the same log-probs within fp16 rounding.
 */
class HalfPrecisionTrainingTest {

  @TempDir Path tmp;

  @Test
  void aHalfPrecisionBaseTrainsAFullPrecisionAdapterWhoseCheckpointLoadsAnywhere() throws Exception {
    RunStore store = RunStore.open(tmp, "p", "half");
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).dataType(DataType.FLOAT16).build();
        GrpoTrainer trainer = GrpoTrainer.builder(policy)
            .config(TrainConfig.builder().learningRate(5e-3).build())
            .lora(new LoraConfig(4, 8, 0.0), 3).runStore(store).build()) {
      List<byte[]> before = GrpoLearningTest.snapshot(trainer.core().baseWeights());
      int[] ranked = GrpoLearningTest.ranked(policy);
      int target = ranked[3];
      double p0 = Math.exp(Tiny.nextLogprobs(policy, GrpoLearningTest.PROMPT)[target]);
      for (int s = 0; s < 4; s++) {
        trainer.train(GrpoLearningTest.group(policy, ranked));
      }
      double p = Math.exp(Tiny.nextLogprobs(policy, GrpoLearningTest.PROMPT)[target]);
      assertTrue(p > 10 * p0, "p(target) " + p0 + " -> " + p);
      for (NDArray w : trainer.core().baseWeights()) {
        assertEquals(DataType.FLOAT16, w.getDataType());
        assertEquals(policy.device(), w.getDevice());
      }
      List<byte[]> after = GrpoLearningTest.snapshot(trainer.core().baseWeights());
      for (int i = 0; i < before.size(); i++) {
        assertArrayEquals(before.get(i), after.get(i), "base weight " + i + " changed");
      }
      for (NDArray a : trainer.adapter().parameters()) {
        assertEquals(DataType.FLOAT32, a.getDataType());
        assertEquals(policy.device(), a.getDevice());
      }
      for (NDArray m : trainer.core().optimizer.state()) {
        assertEquals(DataType.FLOAT32, m.getDataType());
        assertEquals(policy.device(), m.getDevice());
      }
      float[] half = Tiny.nextLogprobs(policy, GrpoLearningTest.PROMPT);
      try (Policy full = Policy.builder(Tiny.model("tiny-qwen2")).adapter(store.checkpointDir(4)).build()) {
        assertEquals(DataType.FLOAT32, full.model().dataType());
        float[] lp = Tiny.nextLogprobs(full, GrpoLearningTest.PROMPT);
        for (int i = 0; i < lp.length; i++) {
          assertEquals(lp[i], half[i], 0.05, "token " + i);
        }
        assertEquals(target, argmax(lp), "the trained preference survives the move to fp32");
      }
    }
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
