package dev.art4j.reward.ruler;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.util.List;
import java.util.Set;

/**
 * Renders messages for the judge to read: one block per message headed by its role, tool
 * calls with their arguments, tool results with the call they answer and a failure mark.
 *
 * <pre>
 * [assistant]
 * Let me add them.
 * [tool call add #c1] {"a":2,"b":3}
 *
 * [tool result add #c1]
 * 5
 * </pre>
 */
final class Transcript {

  private Transcript() {}

  /**
   * @param messages     the messages to render
   * @param firstIndex   index of {@code messages.get(0)} in the whole trajectory
   * @param failedTools  indices (in the whole trajectory) of tool messages whose call failed
   */
  static String render(List<Message> messages, int firstIndex, Set<Integer> failedTools) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      if (i > 0) {
        sb.append("\n\n");
      }
      Message m = messages.get(i);
      if (m.role() == Role.TOOL) {
        boolean failed = failedTools.contains(firstIndex + i);
        sb.append(failed ? "[tool error" : "[tool result");
        if (m.name() != null && !m.name().isEmpty()) {
          sb.append(' ').append(m.name());
        }
        if (m.toolCallId() != null && !m.toolCallId().isEmpty()) {
          sb.append(" #").append(m.toolCallId());
        }
        sb.append("]\n").append(m.content());
        continue;
      }
      sb.append('[').append(m.role().wireName()).append(']');
      if (m.reasoningContent() != null && !m.reasoningContent().isBlank()) {
        sb.append("\n(reasoning) ").append(m.reasoningContent().strip());
      }
      if (!m.content().isEmpty()) {
        sb.append('\n').append(m.content());
      }
      for (ToolCall c : m.toolCalls()) {
        sb.append("\n[tool call ").append(c.name());
        if (!c.id().isEmpty()) {
          sb.append(" #").append(c.id());
        }
        sb.append("] ").append(c.argumentsJson());
      }
    }
    return sb.toString();
  }

  /** Two lines per tool: {@code - name: description} and {@code   arguments: {schema}}. */
  static String tools(List<ToolSpec> tools) {
    StringBuilder sb = new StringBuilder();
    for (ToolSpec t : tools) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append("- ").append(t.name());
      if (!t.description().isBlank()) {
        sb.append(": ").append(t.description().strip());
      }
      sb.append("\n  arguments: ").append(t.parameters().toString());
    }
    return sb.toString();
  }
}
