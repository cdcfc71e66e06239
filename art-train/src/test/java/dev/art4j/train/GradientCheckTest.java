package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.art4j.core.model.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gradients the trainer accumulates into the LoRA parameters against central finite
 * differences of the same loss, on the tiny Qwen2 fixture with its (non-zero) PEFT adapter.
 * fp32 throughout, so the step {@code h = 1e-2} and the tolerance are sized for fp32 round-off
 * (checked: difference quotients at h = 1e-2, 5e-3 and 2e-3 agree with the analytic gradient
 * to within that round-off).
 */
class GradientCheckTest {

  static final float H = 1e-2f;

  @Test
  void loraGradientsMatchCentralDifferences() throws Exception {
    // wide clip range and a KL term: the objective is smooth, and both the policy and the
    // reference pass are differentiated
    TrainConfig config = TrainConfig.builder().lossType(LossType.PPO).epsilon(50).klCoef(0.3)
        .tokenBudget(24).build();
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build();
        GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      List<Sample> samples = trainer.samples(Advantages.compute(Tiny.fixedGroups(), true));
      assertTrue(MicroBatch.plan(samples, 24).size() > 1, "gradients accumulate over several micro-batches");
      List<NDArray> params = trainer.adapter().parameters();
      List<String> names = trainer.adapter().parameterNames();
      float[][] grads = new float[params.size()][];
      try (NDManager scope = policy.manager().newSubManager()) {
        trainer.accumulate(samples, scope, true);
        for (int i = 0; i < params.size(); i++) {
          NDArray g = params.get(i).getGradient();
          g.attach(scope);
          grads[i] = g.toFloatArray();
        }
        trainer.core().optimizer.zeroGradients(scope);
      }
      // the largest gradient entries of a spread of parameters: A and B, first and last layer,
      // attention and MLP
      int checked = 0;
      double worst = 0;
      for (int i = 0; i < params.size(); i += 5) {
        for (int e : largest(grads[i], 2)) {
          double fd = centralDifference(trainer, policy, samples, params.get(i), e, H);
          double g = grads[i][e];
          double err = Math.abs(fd - g);
          worst = Math.max(worst, err / Math.abs(g));
          // fp32 round-off of the loss, divided by 2h, is ~0.02 here: check entries well above it
          assertTrue(Math.abs(g) > 0.5, names.get(i) + "[" + e + "] gradient too small to check: " + g);
          assertEquals(fd, g, 0.02 + 0.005 * Math.abs(g), names.get(i) + "[" + e + "]");
          checked++;
        }
      }
      assertTrue(checked >= 10, "checked " + checked);
      System.out.printf("gradient check: %d entries, worst relative error %.4f%n", checked, worst);
    }
  }

  @Test
  void microBatchingDoesNotChangeTheGradient() throws Exception {
    float[][] small = gradients(16);
    float[][] large = gradients(100_000);
    for (int i = 0; i < small.length; i++) {
      for (int e = 0; e < small[i].length; e++) {
        assertEquals(large[i][e], small[i][e], 1e-6 + 1e-4 * Math.abs(large[i][e]));
      }
    }
  }

  private static float[][] gradients(int budget) throws Exception {
    TrainConfig config = TrainConfig.builder().lossType(LossType.CISPO).tokenBudget(budget).build();
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build();
        GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      List<Sample> samples = trainer.samples(Advantages.compute(Tiny.fixedGroups(), true));
      List<NDArray> params = trainer.adapter().parameters();
      float[][] out = new float[params.size()][];
      try (NDManager scope = policy.manager().newSubManager()) {
        trainer.accumulate(samples, scope, true);
        for (int i = 0; i < params.size(); i++) {
          NDArray g = params.get(i).getGradient();
          g.attach(scope);
          out[i] = g.toFloatArray();
        }
      }
      return out;
    }
  }

  private static double centralDifference(GrpoTrainer trainer, Policy policy, List<Sample> samples, NDArray p, int e,
      float h) {
    long[] shape = p.getShape().getShape();
    NDIndex at = new NDIndex(e / shape[1], e % shape[1]);
    float v = p.toFloatArray()[e];
    double plus;
    double minus;
    try (NDManager scope = policy.manager().newSubManager()) {
      p.set(at, v + h);
      plus = trainer.accumulate(samples, scope, false).loss();
      p.set(at, v - h);
      minus = trainer.accumulate(samples, scope, false).loss();
      p.set(at, v);
    }
    assertEquals(v, p.toFloatArray()[e], "parameter restored");
    return (plus - minus) / (2 * h);
  }

  /** Indices of the {@code k} entries of largest magnitude. */
  private static int[] largest(float[] a, int k) {
    return java.util.stream.IntStream.range(0, a.length).boxed()
        .sorted((x, y) -> Float.compare(Math.abs(a[y]), Math.abs(a[x])))
        .limit(k).mapToInt(Integer::intValue).toArray();
  }
}
