package dev.art4j.reward.rule;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.Trajectory;
import java.util.Objects;

/**
 * Checks on how the agent used its tools.
 *
 * <ul>
 *   <li>{@link #used(String)}: 1 when some assistant message calls the tool, else 0; metric
 *       {@code used_<tool>}, plus {@code calls_<tool>} (how many calls).</li>
 *   <li>{@link #noErrors()}: 1 when no tool message is marked failed (see {@link ToolErrors}),
 *       else 0; metric {@code no_tool_errors}, plus {@code tool_errors} (how many failed).</li>
 * </ul>
 */
public final class ToolUse implements RewardFunction {

  private final String name;
  private final String tool; // null: the no-errors check

  private ToolUse(String name, String tool) {
    this.name = Objects.requireNonNull(name, "name");
    this.tool = tool;
  }

  /** Passes when the agent called {@code tool} at least once. */
  public static ToolUse used(String tool) {
    Objects.requireNonNull(tool, "tool");
    return new ToolUse("used_" + tool, tool);
  }

  /** Passes when no tool call failed. */
  public static ToolUse noErrors() {
    return new ToolUse("no_tool_errors", null);
  }

  public ToolUse named(String metricName) {
    return new ToolUse(metricName, tool);
  }

  @Override
  public Reward score(Trajectory trajectory) {
    if (tool == null) {
      int errors = ToolErrors.indices(trajectory).size();
      return Reward.of(name, errors == 0 ? 1.0 : 0.0).withMetric("tool_errors", errors);
    }
    int calls = 0;
    for (Message m : trajectory.messages()) {
      if (m.role() == Role.ASSISTANT) {
        for (ToolCall c : m.toolCalls()) {
          if (c.name().equals(tool)) {
            calls++;
          }
        }
      }
    }
    return Reward.of(name, calls > 0 ? 1.0 : 0.0).withMetric("calls_" + tool, calls);
  }
}
