package dev.art4j.reward.rule;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.trajectory.Trajectory;
import java.util.List;
import java.util.Optional;

/**
 * The text a trajectory ends with: the content of its last assistant message without its
 * reasoning, trimmed. Answer, format and JSON checks all read this text.
 *
 * <p>Reasoning models leave their thoughts in the content when the reasoning is not split out:
 * {@code <think>...</think>answer}, or only {@code ...</think>answer} when the chat template put
 * the opening tag into the prompt (Qwen3 thinking variants, DeepSeek-R1). Everything up to the
 * last {@code </think>} is reasoning; an opening {@code <think>} that never closes (generation
 * cut off mid-thought) leaves no answer after it.
 */
public final class FinalAnswer {

  private static final String OPEN = "<think>";
  private static final String CLOSE = "</think>";

  private FinalAnswer() {}

  /**
   * The final answer, or empty when the trajectory has no assistant message or its last one calls
   * tools (the agent stopped, out of turns, before it answered: text beside a call is not an
   * answer).
   */
  public static Optional<String> of(Trajectory trajectory) {
    List<Message> messages = trajectory.messages();
    for (int i = messages.size() - 1; i >= 0; i--) {
      Message m = messages.get(i);
      if (m.role() == Role.ASSISTANT) {
        return m.hasToolCalls() ? Optional.empty() : Optional.of(withoutThinking(m.content()));
      }
    }
    return Optional.empty();
  }

  /** {@code text} without its reasoning (see the class comment), trimmed. */
  public static String withoutThinking(String text) {
    String s = text;
    int close = s.lastIndexOf(CLOSE);
    if (close >= 0) {
      s = s.substring(close + CLOSE.length());
    }
    int open = s.indexOf(OPEN);
    if (open >= 0) {
      s = s.substring(0, open);
    }
    return s.trim();
  }
}
