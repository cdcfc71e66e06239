package dev.art4j.core.trajectory;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts a step's failed tool calls (the {@link ToolErrors} marks of its trajectories) by
 * {@linkplain ToolErrorKind kind} and by tool, as history metrics:
 *
 * <pre>
 * tool_errors/unknown_tool, tool_errors/bad_arguments, tool_errors/server_error, tool_errors/timeout
 *     (always all four, 0 when none)
 * tool_errors/tool/NAME   for each tool with at least one failed call; calls of tools the model
 *                         was not offered count under tool_errors/tool/(unknown)
 * </pre>
 *
 * <p>The report ({@code dev.art4j.core.report.ReportWriter}) turns them into a chart and a
 * per-step table. A loop adds them to what it logs:
 * {@code metrics.putAll(ToolErrorStats.metrics(groups))}.
 */
public final class ToolErrorStats {

  /** The prefix of every metric. */
  public static final String PREFIX = "tool_errors/";
  /** The prefix of the per-tool metrics. */
  public static final String TOOL_PREFIX = PREFIX + "tool/";
  /** Where calls of tools that were not offered are counted. */
  public static final String UNKNOWN_TOOL_NAME = "(unknown)";

  private ToolErrorStats() {}

  /** The counts over every trajectory of {@code groups} (see the class comment). */
  public static Map<String, Double> metrics(List<TrajectoryGroup> groups) {
    Map<String, Double> byKind = new TreeMap<>();
    for (ToolErrorKind k : ToolErrorKind.values()) {
      byKind.put(PREFIX + k.key(), 0.0);
    }
    Map<String, Double> byTool = new TreeMap<>();
    for (TrajectoryGroup g : groups) {
      for (Trajectory t : g.trajectories()) {
        for (int i : ToolErrors.indices(t)) {
          Message m = t.messages().get(i);
          ToolErrorKind kind = ToolErrorKind.classify(m.content());
          byKind.merge(PREFIX + kind.key(), 1.0, Double::sum);
          String tool = kind == ToolErrorKind.UNKNOWN_TOOL ? UNKNOWN_TOOL_NAME : toolName(t.messages(), i);
          byTool.merge(TOOL_PREFIX + tool, 1.0, Double::sum);
        }
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (ToolErrorKind k : ToolErrorKind.values()) {
      out.put(PREFIX + k.key(), byKind.get(PREFIX + k.key()));
    }
    out.putAll(byTool);
    return out;
  }

  /** The tool a tool message answers: its own name, else the name of the call with its id. */
  static String toolName(List<Message> messages, int index) {
    Message m = messages.get(index);
    if (m.name() != null && !m.name().isEmpty()) {
      return m.name();
    }
    for (int j = index - 1; j >= 0; j--) {
      Message earlier = messages.get(j);
      if (earlier.role() == Role.ASSISTANT) {
        for (ToolCall c : earlier.toolCalls()) {
          if (c.id() != null && c.id().equals(m.toolCallId())) {
            return c.name();
          }
        }
      }
    }
    return UNKNOWN_TOOL_NAME;
  }
}
