package dev.art4j.reward.rule;

import dev.art4j.core.trajectory.Trajectory;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * 1 when the {@link FinalAnswer final answer} has the required form, else 0 (0 also when
 * there is no assistant message). {@link #find} looks for the pattern anywhere, {@link #matches}
 * requires the whole answer to match. Metric {@code format} unless {@link #named renamed}.
 */
public final class FormatCheck implements RewardFunction {

  private final String name;
  private final Pattern pattern;
  private final boolean whole;

  private FormatCheck(String name, Pattern pattern, boolean whole) {
    this.name = Objects.requireNonNull(name, "name");
    this.pattern = Objects.requireNonNull(pattern, "pattern");
    this.whole = whole;
  }

  /** Passes when {@code pattern} occurs somewhere in the final answer. */
  public static FormatCheck find(Pattern pattern) {
    return new FormatCheck("format", pattern, false);
  }

  /** Passes when the whole final answer matches {@code pattern}. */
  public static FormatCheck matches(Pattern pattern) {
    return new FormatCheck("format", pattern, true);
  }

  public FormatCheck named(String metricName) {
    return new FormatCheck(metricName, pattern, whole);
  }

  @Override
  public Reward score(Trajectory trajectory) {
    boolean ok = FinalAnswer.of(trajectory)
        .map(a -> whole ? pattern.matcher(a).matches() : pattern.matcher(a).find())
        .orElse(false);
    return Reward.of(name, ok ? 1.0 : 0.0);
  }
}
