package dev.art4j.examples.math;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.trajectory.Trajectory;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The math task's rule-based reward: 1 when the final answer (the last number of the last
 * assistant message that calls no tool) equals the correct result within 1e-6, else 0. The
 * {@code success} metric is the same 0/1, and {@code used_tool} records whether the right tool was called.
 */
public final class MathReward {

  private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:\\.\\d+)?");

  private MathReward() {}

  /** The trajectory with its reward and the metrics {@code success} and {@code used_tool}. */
  public static Trajectory score(Trajectory t, MathProblem problem) {
    boolean correct = isCorrect(finalAnswer(t.messages()), problem.answer());
    boolean rightTool = t.messages().stream().filter(m -> m.role() == Role.ASSISTANT)
        .flatMap(m -> m.toolCalls().stream()).anyMatch(c -> c.name().equals(problem.operation().tool()));
    return t.withReward(correct ? 1.0 : 0.0)
        .withMetric("success", correct ? 1.0 : 0.0)
        .withMetric("used_tool", rightTool ? 1.0 : 0.0);
  }

  /** The last number in the last assistant message without tool calls, or null if there is none. */
  public static String finalAnswer(List<Message> messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      Message m = messages.get(i);
      if (m.role() == Role.ASSISTANT && !m.hasToolCalls()) {
        Matcher num = NUMBER.matcher(m.content());
        String last = null;
        while (num.find()) {
          last = num.group();
        }
        return last;
      }
      if (m.role() == Role.ASSISTANT) {
        return null; // ended on a tool call: no answer given
      }
    }
    return null;
  }

  static boolean isCorrect(String answer, double expected) {
    if (answer == null) {
      return false;
    }
    try {
      return Math.abs(Double.parseDouble(answer) - expected) <= 1e-6;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
