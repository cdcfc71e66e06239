package dev.art4j.rollout.gather;

import dev.art4j.core.trajectory.Trajectory;

/**
 * The user's rollout function: runs one scenario once and returns the trajectory with its
 * reward. It may throw; {@link Gather} records the exception in the scenario's group and counts
 * it against its budget. It is called from several threads at once.
 *
 * @param <S> the scenario type (anything: a task string, a record, a game seed)
 */
@FunctionalInterface
public interface Rollout<S> {

  Trajectory run(S scenario) throws Exception;
}
