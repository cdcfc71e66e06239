package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-policy GRPO on the tiny Qwen2 fixture: the reward is 1 for one fixed target token, 0 for
 * others, and the old log-probs are the policy's own at the start of each step. The target's
 * probability must rise at every step, while the base weights stay bit-identical and never hold
 * gradients.
 */
class GrpoLearningTest {

  static final int[] PROMPT = {1, 17, 33, 50, 7};

  @TempDir Path tmp;

  /** Tokens after the prompt, most likely first, under the base model. */
  static int[] ranked(Policy policy) {
    float[] lp = Tiny.nextLogprobs(policy, null, PROMPT);
    return java.util.stream.IntStream.range(0, lp.length).boxed()
        .sorted((a, b) -> Float.compare(lp[b], lp[a])).mapToInt(Integer::intValue).toArray();
  }

  /**
   * One group: the target (the base model's 4th choice, far from certain) twice and three
   * likelier tokens, each followed by eos, rewarded 1 / 0.
   */
  static List<TrajectoryGroup> group(Policy policy, int[] ranked) {
    int target = ranked[3];
    List<Trajectory> ts = new ArrayList<>();
    for (int tok : new int[] {target, ranked[0], target, ranked[1], ranked[2]}) {
      int[] sampled = {tok, 2};
      ts.add(Tiny.trajectory(PROMPT, sampled, Tiny.sampledLogprobs(policy, PROMPT, sampled), tok == target ? 1 : 0));
    }
    return List.of(TrajectoryGroup.of(ts));
  }

  @Test
  void rewardedTokenBecomesMoreLikelyEveryStep() throws Exception {
    for (LossType type : LossType.values()) {
      try (Policy policy = Tiny.qwen2();
          GrpoTrainer trainer = GrpoTrainer.builder(policy)
              .config(TrainConfig.builder().lossType(type).learningRate(5e-3).build())
              .lora(new LoraConfig(4, 8, 0.0), 3)
              .build()) {
        List<byte[]> before = snapshot(trainer.core().baseWeights());
        int[] ranked = ranked(policy);
        int target = ranked[3];
        double p = Math.exp(Tiny.nextLogprobs(policy, PROMPT)[target]);
        double p0 = p;
        for (int s = 1; s <= 5; s++) {
          TrainResult r = trainer.train(group(policy, ranked));
          assertFalse(r.skipped());
          assertEquals(s, r.step());
          assertEquals(5.0, r.metric("trajectories"));
          assertEquals(10.0, r.metric("tokens"));
          double next = Math.exp(Tiny.nextLogprobs(policy, PROMPT)[target]);
          assertTrue(next > p, type + " step " + s + ": p(target) " + p + " -> " + next);
          p = next;
        }
        assertTrue(p0 < 1e-3 && p > 0.5, type + ": p(target) only went from " + p0 + " to " + p);
        List<byte[]> after = snapshot(trainer.core().baseWeights());
        for (int i = 0; i < before.size(); i++) {
          assertArrayEquals(before.get(i), after.get(i), "base weight " + i + " changed");
        }
        for (NDArray w : trainer.core().baseWeights()) {
          assertFalse(w.hasGradient(), "a base weight requires gradients");
        }
      }
    }
  }

  @Test
  void equalRewardsSkipTheStepAndSayWhy() throws Exception {
    RunStore store = RunStore.open(tmp, "p", "m");
    try (Policy policy = Tiny.qwen2();
        GrpoTrainer trainer = GrpoTrainer.builder(policy).runStore(store).build()) {
      float[] before = trainer.adapter().parameters().get(0).toFloatArray();
      int[] ranked = ranked(policy);
      List<TrajectoryGroup> flat = List.of(TrajectoryGroup.of(group(policy, ranked).get(0).trajectories().stream()
          .map(t -> t.withReward(0.5)).toList()));
      TrainResult r = trainer.train(flat);
      assertTrue(r.skipped());
      assertEquals(1, r.step());
      assertEquals(1.0, r.metric("groups_skipped"));
      assertTrue(r.note().contains("equal rewards"), r.note());
      assertArrayEquals(before, trainer.adapter().parameters().get(0).toFloatArray());
      HistoryEntry h = store.history().get(0);
      assertEquals(1, h.step());
      assertEquals(r.note(), h.note());
      assertEquals(5, store.trajectories("train", 1).get(0).size());
      TrainResult r2 = trainer.train(group(policy, ranked));
      assertEquals(2, r2.step(), "a skipped step still counts");
      assertEquals(List.of(1, 2), store.checkpointSteps());
    }
  }

  @Test
  void outOfVocabularyTokenIsRejectedBeforeTheStep() throws Exception {
    try (Policy policy = Tiny.qwen2(); GrpoTrainer trainer = GrpoTrainer.builder(policy).build()) {
      List<TrajectoryGroup> bad = List.of(TrajectoryGroup.of(List.of(
          Tiny.trajectory(PROMPT, new int[] {5, 300}, new float[] {-1f, -1f}, 1.0),
          Tiny.trajectory(PROMPT, new int[] {6, 7}, new float[] {-1f, -1f}, 0.0))));
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> trainer.train(bad));
      assertTrue(e.getMessage().contains("group 0 trajectory 0: token id 300 at position 6"), e.getMessage());
      assertEquals(0, trainer.step());
    }
  }

  static List<byte[]> snapshot(List<NDArray> arrays) {
    List<byte[]> out = new ArrayList<>();
    for (NDArray a : arrays) {
      var buf = a.toByteBuffer();
      byte[] b = new byte[buf.remaining()];
      buf.get(b);
      out.add(b);
    }
    return out;
  }
}
