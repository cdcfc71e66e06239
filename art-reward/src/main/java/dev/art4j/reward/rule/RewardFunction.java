package dev.art4j.reward.rule;

import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.util.Map;

/**
 * A rule-based reward: scores one trajectory on its own, without looking at the rest of its
 * group (for relative scoring by an LLM judge see {@code dev.art4j.reward.ruler.Ruler}).
 *
 * <p>The checks in this package ({@link AnswerMatch}, {@link FormatCheck}, {@link JsonCheck},
 * {@link ToolUse}, {@link Penalty}) each record their score as a metric under their name;
 * {@link #weighted()} combines them: {@code reward = sum_i w_i * r_i}.
 *
 * <pre>{@code
 * RewardFunction reward = RewardFunction.weighted()
 *     .add(1.0, AnswerMatch.numeric(AnswerMatch.metadata("answer"), 1e-6))
 *     .add(0.2, ToolUse.used("add"))
 *     .add(0.1, ToolUse.noErrors())
 *     .add(0.1, Penalty.turns(3, 8))
 *     .build();
 * TrajectoryGroup scored = reward.apply(group);
 * }</pre>
 */
@FunctionalInterface
public interface RewardFunction {

  /** Scores one trajectory. */
  Reward score(Trajectory trajectory);

  /** A copy of {@code trajectory} with the reward set and the reward's metrics added. */
  default Trajectory apply(Trajectory trajectory) {
    Reward r = score(trajectory);
    Trajectory out = trajectory.withReward(r.value());
    for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
      out = out.withMetric(e.getKey(), e.getValue());
    }
    return out;
  }

  /** A new group with every trajectory scored; the group's exceptions are kept. */
  default TrajectoryGroup apply(TrajectoryGroup group) {
    return group.map(this::apply);
  }

  /** Starts a weighted sum of rewards. */
  static WeightedSum.Builder weighted() {
    return WeightedSum.builder();
  }
}
