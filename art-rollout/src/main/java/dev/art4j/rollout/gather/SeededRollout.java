package dev.art4j.rollout.gather;

import dev.art4j.core.trajectory.Trajectory;

/**
 * A {@link Rollout} that also gets its own random seed, which {@link Gather} derives from
 * {@link Gather.Builder#seed its seed} and the rollout's place (scenario, member of the group),
 * never from the order in which concurrent rollouts happen to run. Passing it on to the
 * sampler ({@code agent.withSeed(seed)}) makes a whole gather reproducible.
 *
 * @param <S> the scenario type
 */
@FunctionalInterface
public interface SeededRollout<S> {

  Trajectory run(S scenario, long seed) throws Exception;
}
