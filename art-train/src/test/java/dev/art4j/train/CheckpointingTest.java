package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.art4j.core.model.CheckpointedForward;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Projection;
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
    compare(step(0.0, false), step(0.5, false)); // tiny-qwen2 has 2 layers: the first is recomputed
  }

  @Test
  void allLayersCheckpointed() throws Exception {
    compare(step(0.0, false), step(1.0, false));
  }

  /** Every layer recomputes its attention probabilities and MLP activation (the default). */
  @Test
  void selectiveCheckpointingOfEveryLayer() throws Exception {
    compare(step(0.0, false), step(0.0, true));
  }

  /** The first layer recomputed whole, the second selectively: gradients cross both kinds. */
  @Test
  void selectiveAboveWholeLayerCheckpointing() throws Exception {
    compare(step(0.0, false), step(0.5, true));
  }

  /**
   * With LoRA dropout, a recomputed layer must draw the masks its first forward drew: the
   * gradient of a checkpointed pass (layer 0 recomputed, layer 1 recorded) against central
   * differences of the same seeded forward.
   */
  @Test
  void recomputedLayersDrawTheSameDropoutMasks() throws Exception {
    try (Policy policy = Policy.load(Tiny.model("tiny-qwen2"))) {
      Lora lora = policy.newAdapter(new LoraConfig(4, 8, 0.5), 5);
      for (Projection p : Projection.values()) {
        NDArray b = lora.b(0, p);
        if (b != null) { // B starts at zero: give A a gradient to check
          b.set(new NDIndex("..."), policy.manager().randomNormal(0f, 0.5f, b.getShape(), DataType.FLOAT32));
        }
      }
      lora.setTraining(true);
      NDArray a = lora.a(0, Projection.GATE); // (r, in), recomputed in backward
      float[] grad;
      try (NDManager m = policy.manager().newSubManager()) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          Engine.getInstance().setRandomSeed(42);
          CheckpointedForward f = policy.model().checkpointed(ids(m), positions(m), null, lora, 1);
          f.backward(gc, loss(policy, f.hidden(), m));
        }
        NDArray g = a.getGradient();
        g.attach(m);
        grad = g.toFloatArray();
      }
      int e = 0;
      for (int i = 1; i < grad.length; i++) {
        e = Math.abs(grad[i]) > Math.abs(grad[e]) ? i : e;
      }
      long cols = a.getShape().get(1);
      NDIndex at = new NDIndex(e / cols, e % cols);
      float v = a.toFloatArray()[e];
      float h = 1e-2f;
      a.set(at, v + h);
      double plus = seededLoss(policy, lora);
      a.set(at, v - h);
      double minus = seededLoss(policy, lora);
      a.set(at, v);
      double fd = (plus - minus) / (2 * h);
      assertTrue(Math.abs(grad[e]) > 0.5, "gradient too small to check: " + grad[e]);
      assertEquals(fd, grad[e], 0.02 + 0.005 * Math.abs(grad[e]), "dL/dA[" + e + "]");
    }
  }

  private static double seededLoss(Policy policy, Lora lora) {
    try (NDManager m = policy.manager().newSubManager()) {
      Engine.getInstance().setRandomSeed(42);
      CheckpointedForward f = policy.model().checkpointed(ids(m), positions(m), null, lora, 1);
      return loss(policy, f.hidden(), m).getFloat();
    }
  }

  private static NDArray ids(NDManager m) {
    return m.create(new long[] {5, 17, 42, 7, 99, 3, 250, 11, 64, 128}, new Shape(2, 5));
  }

  private static NDArray positions(NDManager m) {
    return m.create(new long[] {0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, new Shape(2, 5));
  }

  /** A weighted sum of the log-probs of fixed next tokens at every position. */
  private static NDArray loss(Policy policy, NDArray hidden, NDManager m) {
    NDArray rows = hidden.reshape(10, -1);
    NDArray targets = m.create(new long[] {17, 42, 7, 99, 1, 250, 11, 64, 128, 2}, new Shape(10, 1));
    NDArray w = m.create(new float[] {1, -0.5f, 0.8f, 0.3f, -1, 0.6f, 0.9f, -0.7f, 0.4f, 1});
    return TokenLogprobs.of(policy.model(), rows, targets).mul(w).sum();
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

  private static Step step(double checkpointing, boolean selective) throws Exception {
    TrainConfig config = TrainConfig.builder().lossType(LossType.PPO).klCoef(0.3).tokenBudget(24)
        .activationCheckpointing(checkpointing).selectiveCheckpointing(selective).build();
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
