package dev.art4j.rollout.engine;

import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenListener;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Top log-probs, logit bias, penalties and min_tokens through the real engine on the tiny-chat fixture. */
class LogitsProcessingTest {

  static TestKit.TinyChat tiny;
  static final int[] PROMPT = {10, 20, 30, 40, 50};

  @BeforeAll
  static void load() throws Exception {
    tiny = TestKit.TinyChat.load(7);
  }

  @AfterAll
  static void close() {
    tiny.close();
  }

  static Completion run(SamplingParams p, TokenListener l) throws Exception {
    return tiny.engine().submit(PROMPT, p, l).get(60, TimeUnit.SECONDS);
  }

  @Test
  void topLogprobsAreTheMostLikelyIdsWithTheReferenceLogprobs() throws Exception {
    List<int[]> ids = new ArrayList<>();
    List<float[]> lps = new ArrayList<>();
    List<Integer> order = new ArrayList<>();
    Completion c = run(SamplingParams.builder().temperature(0).maxNewTokens(6).ignoreEos(true).topLogprobs(5).build(),
        (i, token, lp, topIds, topLps) -> {
          order.add(i);
          ids.add(topIds);
          lps.add(topLps);
        });
    assertEquals(List.of(0, 1, 2, 3, 4, 5), order);
    float[] ref = TestKit.logprobs(tiny.policy().model(), null, PROMPT, c.tokens(), 1.0);
    for (int i = 0; i < 6; i++) {
      assertEquals(5, ids.get(i).length);
      assertEquals(c.tokens()[i], ids.get(i)[0], "greedy samples the most likely id");
      assertEquals(c.logprobs()[i], lps.get(i)[0]);
      assertEquals(ref[i], lps.get(i)[0], 1e-3);
      for (int j = 1; j < 5; j++) {
        assertTrue(lps.get(i)[j] <= lps.get(i)[j - 1], "descending");
      }
      assertEquals(5, new HashSet<>(List.of(box(ids.get(i)))).size());
    }
  }

  @Test
  void logitBiasForcesAnIdAndMinTokensHoldsBackTheEnd() throws Exception {
    Completion biased = run(SamplingParams.builder().temperature(1).seed(3).maxNewTokens(4).ignoreEos(true)
        .logitBias(Map.of(77, 100f)).build(), null);
    assertArrayEquals(new int[] {77, 77, 77, 77}, biased.tokens());

    int eos = tiny.format().tokenizer().eosTokenIds().get(0);
    SamplingParams toEos = SamplingParams.builder().temperature(1).seed(3).maxNewTokens(10).logitBias(Map.of(eos, 100f)).build();
    assertEquals(1, run(toEos, null).tokens().length, "the bias makes the end of sequence certain");
    Completion held = run(toEos.toBuilder().minTokens(4).build(), null);
    assertEquals(5, held.tokens().length);
    assertEquals(eos, held.tokens()[4]);
    assertEquals(FinishReason.STOP, held.finishReason());
    for (int i = 0; i < 4; i++) {
      assertTrue(held.tokens()[i] != eos);
    }
  }

  @Test
  void presencePenaltyStopsRepeatsThatGreedyDecodingMakes() throws Exception {
    SamplingParams greedy = SamplingParams.builder().temperature(0).maxNewTokens(24).ignoreEos(true).build();
    Completion plain = run(greedy, null);
    assertTrue(distinct(plain.tokens()) < 24, "the fixture repeats itself under greedy decoding");
    Completion penalised = run(greedy.toBuilder().presencePenalty(1000).build(), null);
    assertEquals(24, distinct(penalised.tokens()));
    Completion repetition = run(greedy.toBuilder().repetitionPenalty(1e6).build(), null);
    assertTrue(distinct(repetition.tokens()) > distinct(plain.tokens()));
  }

  @Test
  void maxNewTokensUpToIntegerMaxRunsToTheContext() throws Exception {
    // prompt + maxNewTokens overflowed an int: the request stopped after one token
    try (InferenceEngine small = InferenceEngine.builder().model(tiny.policy().model()).threads(1).maxContext(24).seed(1).build()) {
      Completion c = small.submit(PROMPT, SamplingParams.builder().temperature(1).maxNewTokens(Integer.MAX_VALUE).ignoreEos(true)
          .build()).get(60, TimeUnit.SECONDS);
      assertEquals(24 - PROMPT.length, c.tokens().length);
      assertEquals(FinishReason.LENGTH, c.finishReason());
    }
  }

  static int distinct(int[] ids) {
    Set<Integer> s = new HashSet<>();
    for (int i : ids) {
      s.add(i);
    }
    return s.size();
  }

  static Integer[] box(int[] a) {
    Integer[] b = new Integer[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return b;
  }
}
