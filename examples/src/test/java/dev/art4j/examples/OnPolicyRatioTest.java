package dev.art4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.LossType;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer's first pass over freshly sampled trajectories is on-policy, so its importance
 * ratio must be 1 at whatever temperature the engine sampled: {@code log_ratio_abs_mean}, the
 * mean |log pi_new - log pi_old| over trained tokens before the update, is float noise. Before the
 * trainer divided its logits by the sampling temperature, a T != 1 rollout gave ratios far from 1;
 * the second half of the test rebuilds that situation by recording the same tokens as if sampled
 * at T = 1.
 */
class OnPolicyRatioTest {

  private static final int[][] PROMPTS = {{1, 5, 9, 2}, {3, 7, 11, 13, 17, 4}};

  @ParameterizedTest
  @ValueSource(doubles = {0.5, 0.7, 1.0})
  void trainerRatioIsOneOnPolicyAtTheSamplingTemperature(double temperature) throws Exception {
    Path fixture = Path.of(System.getProperty("art4j.fixtures")).resolve("models/tiny-qwen2");
    for (LossType loss : List.of(LossType.CISPO, LossType.PPO, LossType.GSPO)) {
      try (Policy policy = Policy.builder(fixture).adapter(fixture.resolve("adapter")).build();
          InferenceEngine engine = InferenceEngine.builder().policy(policy).build()) {
        List<TrajectoryGroup> groups = sample(engine, temperature);
        double matched = logRatioAbsMean(policy, groups, loss);
        assertTrue(matched <= 1e-4,
            loss + " at T=" + temperature + ": log_ratio_abs_mean " + matched + " on-policy, expected <= 1e-4");
        if (temperature != 1.0) {
          double asIfT1 = logRatioAbsMean(policy, atTemperatureOne(groups), loss);
          assertTrue(asIfT1 > 1e-2, loss + " at T=" + temperature
              + ": recording the tokens at T=1 (the old convention) should break the ratio, got " + asIfT1);
        }
      }
    }
  }

  /** Two groups of four seeded rollouts with made-up, unequal rewards (every advantage non-zero). */
  private static List<TrajectoryGroup> sample(InferenceEngine engine, double temperature) throws Exception {
    List<TrajectoryGroup> groups = new ArrayList<>();
    for (int g = 0; g < PROMPTS.length; g++) {
      List<Trajectory> members = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        SamplingParams p = SamplingParams.builder().temperature(temperature).maxNewTokens(12).ignoreEos(true)
            .seed(100L * g + i).build();
        Completion c = engine.submit(PROMPTS[g], p).get();
        assertEquals((float) temperature, c.logprobTemperature());
        Turn turn = new Turn(PROMPTS[g], c.tokens(), c.logprobs(), c.logprobTemperature());
        members.add(Trajectory.ofMessages(List.of()).withTurns(List.of(turn)).withReward(i));
      }
      groups.add(new TrajectoryGroup(members, List.of()));
    }
    return groups;
  }

  private static List<TrajectoryGroup> atTemperatureOne(List<TrajectoryGroup> groups) {
    List<TrajectoryGroup> out = new ArrayList<>();
    for (TrajectoryGroup g : groups) {
      List<Trajectory> members = new ArrayList<>();
      for (Trajectory t : g.trajectories()) {
        Turn turn = t.turns().get(0);
        members.add(t.withTurns(List.of(new Turn(turn.promptIds(), turn.sampledIds(), turn.logprobs(), 1f))));
      }
      out.add(new TrajectoryGroup(members, List.of()));
    }
    return out;
  }

  /** One step's metric; learning rate 0 leaves the adapter as sampled for the next call. */
  private static double logRatioAbsMean(Policy policy, List<TrajectoryGroup> groups, LossType loss) {
    TrainConfig config = TrainConfig.builder().lossType(loss).learningRate(0).build();
    try (GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      TrainResult r = trainer.train(groups);
      return r.metrics().get("log_ratio_abs_mean");
    }
  }
}
