package dev.art4j.reward.rule;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.trajectory.Trajectory;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The text a trajectory ends with: the content of its last assistant message, with any
 * {@code <think>...</think>} block removed (Qwen3 and other reasoning models leave it in the
 * content when the reasoning is not split out) and surrounding white space trimmed.
 * Answer, format and JSON checks all read this text.
 */
public final class FinalAnswer {

  // An unclosed <think> (generation cut off mid-thought) swallows the rest: there is no answer.
  private static final Pattern THINK = Pattern.compile("(?s)<think>.*?(</think>|\\z)");

  private FinalAnswer() {}

  /** The final answer, or empty when the trajectory has no assistant message. */
  public static Optional<String> of(Trajectory trajectory) {
    List<Message> messages = trajectory.messages();
    for (int i = messages.size() - 1; i >= 0; i--) {
      Message m = messages.get(i);
      if (m.role() == Role.ASSISTANT) {
        return Optional.of(THINK.matcher(m.content()).replaceAll("").trim());
      }
    }
    return Optional.empty();
  }
}
