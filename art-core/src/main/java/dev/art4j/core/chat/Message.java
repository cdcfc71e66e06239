package dev.art4j.core.chat;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/**
 * One chat message, in OpenAI's chat format when serialised.
 *
 * @param role             system, user, assistant or tool
 * @param content          the text (for an assistant turn, the text outside tool calls)
 * @param toolCalls        the assistant's tool calls, empty otherwise
 * @param toolCallId       for a tool message: the id of the call it answers
 * @param name             for a tool message: the tool's name (optional)
 * @param reasoningContent an assistant's reasoning (Qwen3 {@code <think>}), if separated out
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Message(
    @JsonProperty("role") Role role,
    @JsonProperty("content") String content,
    @JsonProperty("tool_calls") List<ToolCall> toolCalls,
    @JsonProperty("tool_call_id") String toolCallId,
    @JsonProperty("name") String name,
    @JsonProperty("reasoning_content") String reasoningContent) {

  public Message {
    Objects.requireNonNull(role, "role");
    content = content == null ? "" : content;
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static Message system(String content) {
    return new Message(Role.SYSTEM, content, null, null, null, null);
  }

  public static Message user(String content) {
    return new Message(Role.USER, content, null, null, null, null);
  }

  public static Message assistant(String content) {
    return new Message(Role.ASSISTANT, content, null, null, null, null);
  }

  public static Message assistant(String content, List<ToolCall> toolCalls) {
    return new Message(Role.ASSISTANT, content, toolCalls, null, null, null);
  }

  /** The answer to a tool call. */
  public static Message tool(String toolCallId, String name, String content) {
    return new Message(Role.TOOL, content, null, toolCallId, name, null);
  }

  public boolean hasToolCalls() {
    return !toolCalls.isEmpty();
  }
}
