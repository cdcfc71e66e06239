package dev.art4j.reward.rule;

import dev.art4j.core.trajectory.Trajectory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Several rewards combined linearly: {@code reward = sum_i w_i * r_i}. The metrics of every
 * part are kept (a later part's metric of the same name replaces an earlier one), so a run's
 * history shows which check a trajectory passed.
 */
public final class WeightedSum implements RewardFunction {

  private record Part(String name, double weight, RewardFunction function) {}

  private final List<Part> parts;

  private WeightedSum(List<Part> parts) {
    this.parts = List.copyOf(parts);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Reward score(Trajectory trajectory) {
    double total = 0;
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (Part p : parts) {
      Reward r = p.function.score(trajectory);
      total += p.weight * r.value();
      metrics.putAll(r.metrics());
      if (p.name != null) {
        metrics.put(p.name, r.value());
      }
    }
    return new Reward(total, metrics);
  }

  /** Collects the parts of a {@link WeightedSum}. */
  public static final class Builder {
    private final List<Part> parts = new ArrayList<>();

    private Builder() {}

    /** Adds {@code weight * function}; the function's own metrics are kept. */
    public Builder add(double weight, RewardFunction function) {
      return add(null, weight, function);
    }

    /** Adds {@code weight * function} and records the function's value as metric {@code name}. */
    public Builder add(String name, double weight, RewardFunction function) {
      Objects.requireNonNull(function, "function");
      if (!Double.isFinite(weight)) {
        throw new IllegalArgumentException("weight must be finite, got " + weight);
      }
      parts.add(new Part(name, weight, function));
      return this;
    }

    public WeightedSum build() {
      if (parts.isEmpty()) {
        throw new IllegalStateException("a weighted reward needs at least one part");
      }
      return new WeightedSum(parts);
    }
  }
}
