package dev.art4j.reward.rule;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.Turn;
import java.util.function.ToIntFunction;

/**
 * A penalty in {@code [-1, 0]} that grows linearly with the size {@code n} of a trajectory:
 * {@code penalty = -clamp((n - free) / (max - free), 0, 1)}, i.e. nothing up to {@code free},
 * -1 from {@code max} on. Give it a positive weight in a {@link WeightedSum}.
 *
 * <ul>
 *   <li>{@link #turns}: n = assistant messages; metrics {@code turn_penalty}, {@code turns}.</li>
 *   <li>{@link #characters}: n = characters the assistant wrote (content, reasoning, tool
 *       names and arguments); metrics {@code length_penalty}, {@code assistant_chars}.</li>
 *   <li>{@link #sampledTokens}: n = tokens the policy sampled (needs token data);
 *       metrics {@code length_penalty}, {@code sampled_tokens}.</li>
 * </ul>
 */
public final class Penalty implements RewardFunction {

  private final String name;
  private final String countName;
  private final ToIntFunction<Trajectory> size;
  private final int free;
  private final int max;

  private Penalty(String name, String countName, ToIntFunction<Trajectory> size, int free, int max) {
    if (free < 0 || max <= free) {
      throw new IllegalArgumentException(name + ": need 0 <= free < max, got free " + free + ", max " + max);
    }
    this.name = name;
    this.countName = countName;
    this.size = size;
    this.free = free;
    this.max = max;
  }

  /** Penalises more than {@code free} assistant turns, fully at {@code max}. */
  public static Penalty turns(int free, int max) {
    return new Penalty("turn_penalty", "turns", Penalty::assistantTurns, free, max);
  }

  /** Penalises more than {@code free} characters of assistant output, fully at {@code max}. */
  public static Penalty characters(int free, int max) {
    return new Penalty("length_penalty", "assistant_chars", Penalty::assistantChars, free, max);
  }

  /** Penalises more than {@code free} sampled tokens, fully at {@code max}. */
  public static Penalty sampledTokens(int free, int max) {
    return new Penalty("length_penalty", "sampled_tokens", Penalty::sampledTokenCount, free, max);
  }

  public Penalty named(String metricName) {
    return new Penalty(metricName, countName, size, free, max);
  }

  @Override
  public Reward score(Trajectory trajectory) {
    int n = size.applyAsInt(trajectory);
    double p = -Math.min(1.0, Math.max(0.0, (double) (n - free) / (max - free)));
    return Reward.of(name, p + 0.0).withMetric(countName, n); // + 0.0: no -0.0 in the metrics
  }

  private static int assistantTurns(Trajectory t) {
    return (int) t.messages().stream().filter(m -> m.role() == Role.ASSISTANT).count();
  }

  private static int assistantChars(Trajectory t) {
    int n = 0;
    for (Message m : t.messages()) {
      if (m.role() == Role.ASSISTANT) {
        n += m.content().length();
        n += m.reasoningContent() == null ? 0 : m.reasoningContent().length();
        for (ToolCall c : m.toolCalls()) {
          n += c.name().length() + c.argumentsJson().length();
        }
      }
    }
    return n;
  }

  private static int sampledTokenCount(Trajectory t) {
    if (t.turns().isEmpty()) {
      throw new IllegalArgumentException("Penalty.sampledTokens needs token data but the trajectory has no turns"
          + " (read back from a run store?); use Penalty.characters instead");
    }
    return t.turns().stream().mapToInt((Turn turn) -> turn.sampledIds().length).sum();
  }
}
