package dev.art4j.reward.rule;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link RewardFunction} gives one trajectory: the scalar the trainer optimises and
 * named numbers that explain it (each check's own score, counts such as {@code tool_errors}).
 *
 * @param value   the reward
 * @param metrics named numbers, copied into the trajectory's metrics by {@link RewardFunction#apply}
 */
public record Reward(double value, Map<String, Double> metrics) {

  public Reward {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("reward must be a finite number, got " + value);
    }
    Objects.requireNonNull(metrics, "metrics");
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** A reward with no metrics. */
  public static Reward of(double value) {
    return new Reward(value, Map.of());
  }

  /** A reward that is also recorded as the metric {@code name}. */
  public static Reward of(String name, double value) {
    return new Reward(value, Map.of(name, value));
  }

  /** This reward with one more metric. */
  public Reward withMetric(String name, double v) {
    Map<String, Double> m = new LinkedHashMap<>(metrics);
    m.put(name, v);
    return new Reward(value, m);
  }
}
