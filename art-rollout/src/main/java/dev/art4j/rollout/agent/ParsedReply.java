package dev.art4j.rollout.agent;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import java.util.List;
import java.util.Objects;

/**
 * A model's reply split into its parts: visible text, reasoning, and tool calls.
 *
 * @param content   the text outside tool calls and reasoning, trimmed
 * @param reasoning the text of a {@code <think>} block, or null if there was none
 * @param calls     the tool calls in the order written, each with its problem if any
 */
public record ParsedReply(String content, String reasoning, List<ParsedCall> calls) {

  public ParsedReply {
    content = content == null ? "" : content;
    calls = calls == null ? List.of() : List.copyOf(calls);
  }

  /** True when the model asked for at least one tool call (well-formed or not). */
  public boolean hasToolCalls() {
    return !calls.isEmpty();
  }

  /** The tool calls as they go into the assistant message. */
  public List<ToolCall> toolCalls() {
    return calls.stream().map(ParsedCall::call).toList();
  }

  /** The assistant message for the conversation record. */
  public Message toMessage() {
    return new Message(Role.ASSISTANT, content, toolCalls(), null, null, reasoning);
  }

  /** A copy with the calls replaced (after validation against the tools). */
  public ParsedReply withCalls(List<ParsedCall> newCalls) {
    return new ParsedReply(content, reasoning, newCalls);
  }

  @Override
  public String toString() {
    return "ParsedReply[content=" + Objects.toString(content) + ", reasoning=" + (reasoning != null)
        + ", calls=" + calls + "]";
  }
}
