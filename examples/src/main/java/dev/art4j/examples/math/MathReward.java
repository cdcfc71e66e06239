package dev.art4j.examples.math;

import dev.art4j.reward.rule.AnswerMatch;
import dev.art4j.reward.rule.RewardFunction;
import dev.art4j.reward.rule.ToolUse;

/**
 * The math task's rule-based reward, built from the library's checks: 1 when the
 * {@link dev.art4j.reward.rule.FinalAnswer final answer}'s last number equals the correct result
 * within 1e-6 ({@link AnswerMatch}, metric {@code success}), else 0 (a trajectory that stopped on
 * a tool call has no final answer); {@code used_tool} ({@link ToolUse}, weight 0) records whether
 * the problem's tool was called.
 */
public final class MathReward {

  private MathReward() {}

  /** The reward of rollouts of {@code problem}. */
  public static RewardFunction of(MathProblem problem) {
    return RewardFunction.weighted()
        .add(1.0, AnswerMatch.numeric(problem.answer(), 1e-6).named("success"))
        .add(0.0, ToolUse.used(problem.operation().tool()).named("used_tool"))
        .build();
  }
}
