package dev.art4j.rollout.engine;

import dev.art4j.core.model.Policy;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Logit processing and top log-probs are the same on both backends: the tensor backend sends such
 * requests to the host ({@link DeviceSampler#needsHost}) and samples them as the Java backend does
 * ({@link HostSampling}). A logit bias that forces one id is obeyed, and the listener's top ids
 * and log-probs agree within float tolerance.
 */
class HostSamplingTest {

  @Test
  void logitBiasAndTopLogprobsAgreeAcrossBackends() throws Exception {
    Path fixture = Reference.model("tiny-qwen2");
    int forced = 7;
    SamplingParams p = SamplingParams.builder().temperature(0.8).seed(3).maxNewTokens(6).ignoreEos(true)
        .logitBias(Map.of(forced, 100f)).topLogprobs(3).build();
    assertTrue(DeviceSampler.needsHost(p));
    int[] prompt = {1, 5, 9, 2};
    Run java = run(fixture, Backend.JAVA, prompt, p);
    Run tensor = run(fixture, Backend.TENSOR, prompt, p);
    for (int t : java.completion.tokens()) {
      assertEquals(forced, t, "a +100 logit bias forces the id");
    }
    assertArrayEquals(java.completion.tokens(), tensor.completion.tokens());
    assertEquals(6, java.top.size());
    for (int i = 0; i < java.top.size(); i++) {
      assertEquals(forced, java.top.get(i)[0], "the forced id is the most likely one");
      assertEquals(java.completion.logprobs()[i], tensor.completion.logprobs()[i], 1e-4);
      for (int k = 0; k < 3; k++) {
        assertEquals(java.top.get(i)[k], tensor.top.get(i)[k], "top id " + k + " of token " + i);
        assertEquals(java.topLp.get(i)[k], tensor.topLp.get(i)[k], 1e-4, "top log-prob " + k + " of token " + i);
      }
    }
  }

  private record Run(Completion completion, List<int[]> top, List<float[]> topLp) {}

  private static Run run(Path fixture, Backend backend, int[] prompt, SamplingParams p) throws Exception {
    List<int[]> top = new ArrayList<>();
    List<float[]> topLp = new ArrayList<>();
    try (Policy policy = Policy.builder(fixture).adapter(fixture.resolve("adapter")).build();
        InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(backend).build()) {
      engine.refreshAdapter();
      Completion c = engine.submit(prompt, p, (index, token, lp, ids, lps) -> {
        top.add(ids);
        topLp.add(lps);
      }).get();
      return new Run(c, top, topLp);
    }
  }
}
