package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.art4j.core.model.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Activation checkpointing ({@link TrainConfig#activationCheckpointing()}) of some or all layers
 * changes memory, not the math: the same loss and the same LoRA gradients as the plain forward, on
 * the tiny Qwen2 fixture with its PEFT adapter, a KL term and several micro-batches.
 */
class CheckpointingTest {

  @Test
  void someLayersCheckpointed() throws Exception {
    compare(step(0.0), step(0.5)); // tiny-qwen2 has 2 layers: the first is recomputed
  }

  @Test
  void allLayersCheckpointed() throws Exception {
    compare(step(0.0), step(1.0));
  }

  private static void compare(Step plain, Step checkpointed) {
    assertEquals(plain.loss, checkpointed.loss, 1e-6 * Math.abs(plain.loss) + 1e-7, "loss");
    double worst = 0;
    double largest = 0;
    for (int p = 0; p < plain.grads.length; p++) {
      for (int e = 0; e < plain.grads[p].length; e++) {
        worst = Math.max(worst, Math.abs(plain.grads[p][e] - checkpointed.grads[p][e]));
        largest = Math.max(largest, Math.abs(plain.grads[p][e]));
      }
    }
    assertTrue(largest > 1e-3, "gradients too small to compare: " + largest);
    assertTrue(worst <= 1e-5 * largest, "gradients differ by " + worst + " (largest " + largest + ")");
  }

  private record Step(double loss, float[][] grads) {}

  private static Step step(double checkpointing) throws Exception {
    TrainConfig config = TrainConfig.builder().lossType(LossType.PPO).klCoef(0.3).tokenBudget(24)
        .activationCheckpointing(checkpointing).build();
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build();
        GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      List<Sample> samples = trainer.samples(Advantages.compute(Tiny.fixedGroups(), true));
      assertTrue(MicroBatch.plan(samples, 24).size() > 1, "several micro-batches");
      List<NDArray> params = trainer.adapter().parameters();
      try (NDManager scope = policy.manager().newSubManager()) {
        double loss = trainer.accumulate(samples, scope, true).loss();
        float[][] grads = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
          NDArray g = params.get(i).getGradient();
          g.attach(scope);
          grads[i] = g.toFloatArray();
        }
        return new Step(loss, grads);
      }
    }
  }
}
