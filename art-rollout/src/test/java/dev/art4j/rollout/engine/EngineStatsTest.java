package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.model.Policy;
import dev.art4j.rollout.completion.SamplingParams;
import org.junit.jupiter.api.Test;

/** {@link InferenceEngine#stats()}: cumulative, read-only figures whose differences time a phase. */
class EngineStatsTest {

  @Test
  void statsCountStepsRequestsAndTimePerOperation() throws Exception {
    try (Policy policy = Policy.load(Reference.model("tiny-qwen2"));
        InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(Backend.JAVA).build()) {
      EngineStats start = engine.stats();
      assertEquals(0, start.steps());
      assertEquals(Backend.JAVA, start.backend());
      assertTrue(!start.kernels().isEmpty());
      engine.submit(new int[] {1, 2, 3}, SamplingParams.builder().temperature(0).maxNewTokens(5).ignoreEos(true).build())
          .get();
      EngineStats first = engine.stats();
      assertEquals(1, first.completedRequests());
      assertEquals(5, first.steps(), "one prefill step that samples the first token, then four decode steps");
      assertTrue(first.millis("matmul_qkv") > 0 && first.millis("attention") > 0, first.millisByOp().toString());
      assertEquals(first.millisByOp(), engine.stats().millisByOp(), "reading the stats changes nothing");
      engine.submit(new int[] {4, 5}, SamplingParams.builder().temperature(0).maxNewTokens(3).ignoreEos(true).build())
          .get();
      EngineStats second = engine.stats();
      assertEquals(8, second.steps());
      assertTrue(second.millis("lm_head") > first.millis("lm_head"), "cumulative");
    }
  }
}
