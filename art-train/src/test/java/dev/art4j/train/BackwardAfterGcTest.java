package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Policy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A garbage collection between the forward and the backward pass leaves the LoRA gradients
 * unchanged. DJL's PyTorch engine backs the scalar it makes of a Java number ({@code x.mul(0.5f)})
 * with a direct buffer that it frees when the op returns; {@code mul} and {@code pow} keep that
 * operand for backward, so once a GC had released the buffer, backward read freed memory: the
 * RL loop got a NaN gradient about one step in 40, and wrong finite gradients it could not see.
 * Forward and backward run here with a full GC and a burst of small native allocations (which
 * reuse the freed memory) in between, through every op of the GRPO step: attention scale,
 * RMSNorm, LoRA scaling, the loss and its KL term.
 */
class BackwardAfterGcTest {

  @Test
  void aGcBetweenForwardAndBackwardLeavesTheGradientsUnchanged() throws Exception {
    TrainConfig config = TrainConfig.builder().lossType(LossType.PPO).epsilon(50).klCoef(0.3).build();
    Path adapterDir = Tiny.model("tiny-qwen2").resolve("adapter");
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(adapterDir).build();
        GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      List<Sample> samples = trainer.samples(Advantages.compute(Tiny.fixedGroups(), true));
      MicroBatch mb = MicroBatch.plan(samples, 100_000).get(0);
      PolicyLoss loss = new PolicyLoss(config);
      float[][] clean = gradients(policy, trainer.adapter(), mb, loss, false);
      for (int attempt = 0; attempt < 3; attempt++) {
        float[][] afterGc = gradients(policy, trainer.adapter(), mb, loss, true);
        for (int i = 0; i < clean.length; i++) {
          for (int e = 0; e < clean[i].length; e++) {
            assertEquals(clean[i][e], afterGc[i][e], 1e-6 * Math.max(1, Math.abs(clean[i][e])),
                "attempt " + attempt + ", " + trainer.adapter().parameterNames().get(i) + "[" + e + "]");
          }
        }
      }
    }
  }

  private static float[][] gradients(Policy policy, Lora adapter, MicroBatch mb, PolicyLoss loss, boolean gc)
      throws InterruptedException {
    List<NDArray> params = adapter.parameters();
    float[][] out = new float[params.size()][];
    try (NDManager scope = policy.manager().newSubManager(); NDManager churn = scope.newSubManager()) {
      MicroBatch.Tensors t = mb.tensors(scope, false);
      NDArray ref = t.referenceLogprobs(policy.model(), scope);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        PolicyLoss.Output o = loss.compute(t.lossInputs(t.logprobs(policy.model(), adapter), ref));
        assertTrue(Float.isFinite(o.loss().getFloat()));
        if (gc) {
          System.gc();
          Thread.sleep(100); // the reference handler frees the released direct buffers
          for (int i = 0; i < 20_000; i++) {
            churn.create(new float[] {Float.NaN});
          }
        }
        collector.backward(o.loss());
      }
      for (int i = 0; i < params.size(); i++) {
        NDArray g = params.get(i).getGradient();
        g.attach(scope);
        out[i] = g.toFloatArray();
        g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
      }
    }
    return out;
  }
}
