package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.art4j.core.model.Policy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The shared optimiser step: a pass whose gradient is not finite is recomputed once, then skipped. */
class LoraTrainingTest {

  /** A pass whose gradient is NaN on the calls listed in {@code nanCalls} (0-based), finite otherwise. */
  private static Function<NDManager, Integer> pass(LoraTraining core, AtomicInteger calls, int... nanCalls) {
    return scope -> {
      int call = calls.getAndIncrement();
      boolean nan = java.util.Arrays.stream(nanCalls).anyMatch(c -> c == call);
      try (NDManager m = scope.newSubManager();
          GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = null;
        for (NDArray p : core.adapter.parameters()) {
          NDArray term = p.mul(nan ? Float.NaN : 1f).sum();
          term.attach(m);
          loss = loss == null ? term : loss.add(term);
        }
        gc.backward(loss);
      }
      return call;
    };
  }

  @Test
  void aNonFiniteGradientIsRecomputedOnceBeforeTheUpdateIsSkipped() throws Exception {
    try (Policy policy = Tiny.qwen2();
        LoraTraining core = new LoraTraining(policy, new LoraTraining.Options(), "grpo")) {
      NDArray a = core.adapter.parameters().get(0);
      float[] before = a.toFloatArray();

      AtomicInteger calls = new AtomicInteger();
      LoraTraining.Update<Integer> once = core.update(1, 1e-2, pass(core, calls, 0));
      assertEquals(2, calls.get(), "the NaN pass is run again");
      assertEquals(1, once.pass(), "the update reports the pass it applied");
      assertTrue(Double.isFinite(once.gradNorm()), "gradient norm " + once.gradNorm());
      assertEquals(1, core.optimizer.steps());
      assertFalse(java.util.Arrays.equals(before, a.toFloatArray()), "the adapter was updated");

      float[] after = a.toFloatArray();
      calls.set(0);
      LoraTraining.Update<Integer> twice = core.update(2, 1e-2, pass(core, calls, 0, 1));
      assertEquals(2, calls.get(), "recomputed once, not more");
      assertTrue(Double.isNaN(twice.gradNorm()));
      assertEquals(1, core.optimizer.steps(), "the update is skipped");
      assertArrayEquals(after, a.toFloatArray(), "the adapter is untouched");

      calls.set(0);
      LoraTraining.Update<Integer> clean = core.update(3, 1e-2, pass(core, calls));
      assertEquals(1, calls.get(), "a finite pass runs once");
      assertTrue(Double.isFinite(clean.gradNorm()), "no NaN left behind by the skipped step: " + clean.gradNorm());
      assertEquals(2, core.optimizer.steps());
    }
  }
}
