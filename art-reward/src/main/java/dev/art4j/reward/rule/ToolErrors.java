package dev.art4j.reward.rule;

import dev.art4j.core.chat.Role;
import dev.art4j.core.trajectory.Trajectory;
import java.util.ArrayList;
import java.util.List;

/**
 * How a trajectory says which tool calls failed. A {@code Message} carries no error flag, so
 * the rollout records the failures in the trajectory's metadata: key {@value #KEY}, a JSON array
 * of the 0-based indices (into {@code messages}) of the tool messages whose
 * {@code ToolResult.isError()} was true. A trajectory without the key had no tool errors.
 * The array survives the run store's JSON round trip; {@link ToolUse#noErrors()} and the RULER
 * transcript read it.
 *
 * <pre>{@code "metadata": {"tool_errors": [3, 7]}}</pre>
 */
public final class ToolErrors {

  /** The metadata key. */
  public static final String KEY = "tool_errors";

  private ToolErrors() {}

  /**
   * The indices of the failed tool messages, ascending as stored.
   *
   * @throws IllegalArgumentException if the metadata value is not an array of integers that
   *     point at tool messages
   */
  public static List<Integer> indices(Trajectory trajectory) {
    Object v = trajectory.metadata().get(KEY);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw new IllegalArgumentException("trajectory metadata '" + KEY + "' must be a list of message indices, got "
          + v.getClass().getSimpleName());
    }
    List<Integer> out = new ArrayList<>(list.size());
    for (Object o : list) {
      if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
        throw new IllegalArgumentException("trajectory metadata '" + KEY + "' holds " + o
            + ", not a message index");
      }
      int i = n.intValue();
      if (i < 0 || i >= trajectory.messages().size() || trajectory.messages().get(i).role() != Role.TOOL) {
        throw new IllegalArgumentException("trajectory metadata '" + KEY + "' names message " + i
            + ", which is not a tool message (the trajectory has " + trajectory.messages().size() + " messages)");
      }
      out.add(i);
    }
    return List.copyOf(out);
  }

  /** A copy of {@code trajectory} with tool message {@code messageIndex} marked as failed. */
  public static Trajectory mark(Trajectory trajectory, int messageIndex) {
    List<Integer> marked = new ArrayList<>(indices(trajectory));
    if (messageIndex < 0 || messageIndex >= trajectory.messages().size()
        || trajectory.messages().get(messageIndex).role() != Role.TOOL) {
      throw new IllegalArgumentException("message " + messageIndex + " is not a tool message");
    }
    if (!marked.contains(messageIndex)) {
      marked.add(messageIndex);
      marked.sort(null);
    }
    return trajectory.withMetadata(KEY, List.copyOf(marked));
  }
}
