package dev.art4j.core.trajectory;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The rollouts of one scenario, run several times by the same policy; GRPO compares rewards
 * within a group. Rollouts that threw are kept as exceptions, not as trajectories.
 *
 * @param trajectories the finished rollouts
 * @param exceptions   what the failed rollouts threw (not serialised; see {@link #errors()})
 */
public record TrajectoryGroup(
    @JsonProperty("trajectories") List<Trajectory> trajectories,
    @JsonIgnore List<Throwable> exceptions) {

  public TrajectoryGroup {
    trajectories = trajectories == null ? List.of() : List.copyOf(trajectories);
    exceptions = exceptions == null ? List.of() : List.copyOf(exceptions);
  }

  public static TrajectoryGroup of(List<Trajectory> trajectories) {
    return new TrajectoryGroup(trajectories, List.of());
  }

  @com.fasterxml.jackson.annotation.JsonCreator
  static TrajectoryGroup fromJson(@JsonProperty("trajectories") List<Trajectory> trajectories) {
    return of(trajectories);
  }

  public int size() {
    return trajectories.size();
  }

  /** The failed rollouts as {@code "Type: message"} lines, for logs and JSON. */
  @JsonProperty("errors")
  public List<String> errors() {
    return exceptions.stream().map(e -> e.getClass().getSimpleName() + ": " + e.getMessage()).toList();
  }

  /** A copy with every trajectory mapped (exceptions kept). */
  public TrajectoryGroup map(UnaryOperator<Trajectory> f) {
    return new TrajectoryGroup(trajectories.stream().map(f).toList(), exceptions);
  }
}
