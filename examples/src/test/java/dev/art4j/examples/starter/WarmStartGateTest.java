package dev.art4j.examples.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.examples.math.MathStarter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm start's gate: it runs the planned steps, then goes on until the score reaches the
 * target or the cap; every measurement lands in {@code starter.json}. A tiny model (one layer,
 * hidden 32) on the math demonstrations keeps each SFT step short.
 */
class WarmStartGateTest {

  static StarterSpec spec(WarmStartGate gate) {
    StarterSpec math = MathStarter.spec(5);
    return new StarterSpec("gate-test", 5, math.tools(), math.demonstration(), math.extraCorpus(),
        new StarterSpec.Shape(32, 1, 2, 1, 64, 512), 60, 2, math.fusedTokens(), StarterSpec.DEFAULT_PHASE_ENDS,
        List.of(), gate);
  }

  @Test
  void goesOnPastThePlannedStepsUntilTheScoreReachesTheTarget(@TempDir Path cache) throws Exception {
    List<Integer> heldOutSizes = new ArrayList<>();
    double[] scores = {0.1, 0.4, 0.95, 0.2};
    int[] calls = {0};
    WarmStartGate gate = new WarmStartGate("test_score", 0.9, 1, 10, 3, (policy, heldOut) -> {
      heldOutSizes.add(heldOut.size());
      assertTrue(heldOut.stream().allMatch(ids -> ids.length > 10), "held-out demonstrations are token ids");
      return scores[calls[0]++];
    });
    JsonNode warm = warmStart(Starter.ensure(spec(gate), cache));
    assertEquals(3, warm.get("steps_run").asInt(), "2 planned steps, then one more until 0.95 >= 0.9");
    assertTrue(warm.get("gate_passed").asBoolean());
    assertEquals(List.of(3, 3, 3), heldOutSizes);
    assertEquals(3, warm.get("gate_scores").size());
    assertEquals(0.95, warm.get("gate_scores").get(2).get("test_score").asDouble());
    assertEquals(3, warm.get("gate_scores").get(2).get("step").asInt());
  }

  @Test
  void stopsAtTheCapWhenTheTargetIsNeverReached(@TempDir Path cache) throws Exception {
    WarmStartGate gate = new WarmStartGate("test_score", 0.9, 2, 6, 2, (policy, heldOut) -> 0.5);
    JsonNode warm = warmStart(Starter.ensure(spec(gate), cache));
    assertEquals(6, warm.get("steps_run").asInt());
    assertFalse(warm.get("gate_passed").asBoolean());
    assertEquals(3, warm.get("gate_scores").size(), "measured at steps 2, 4, 6");
  }

  @Test
  void aScoreAboveTheTargetDuringThePlannedStepsDoesNotShortenThem(@TempDir Path cache) throws Exception {
    WarmStartGate gate = new WarmStartGate("test_score", 0.9, 1, 10, 1, (policy, heldOut) -> 1.0);
    JsonNode warm = warmStart(Starter.ensure(spec(gate), cache));
    assertEquals(2, warm.get("steps_run").asInt());
  }

  @Test
  void badGatesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new WarmStartGate("s", 1.5, 1, 10, 1, (p, h) -> 0));
    assertThrows(IllegalArgumentException.class, () -> new WarmStartGate("s", 0.5, 0, 10, 1, (p, h) -> 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> spec(new WarmStartGate("s", 0.5, 1, 1, 1, (p, h) -> 0)));
    assertTrue(e.getMessage().contains("maxSteps"), e.getMessage());
  }

  private static JsonNode warmStart(Path starter) throws Exception {
    return new ObjectMapper().readTree(starter.resolve("starter.json").toFile()).get("warm_start");
  }
}
