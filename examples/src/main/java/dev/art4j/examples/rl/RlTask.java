package dev.art4j.examples.rl;

import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.examples.starter.StarterSpec;
import dev.art4j.rollout.agent.AgentLoop;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What {@link RlLoop} needs from one example task: its scenarios, how one rollout runs and is
 * scored, and the starter model it comes with.
 *
 * @param <S> the scenario type
 */
public interface RlTask<S> extends AutoCloseable {

  /** The task's name: the run store's project and the starter's name. */
  String name();

  /** The embedded starter for this task, built from {@code seed}. */
  StarterSpec starter(long seed);

  /** The seed of the starter that {@code art4j train} uses unless told otherwise. */
  default long defaultStarterSeed() {
    return 0;
  }

  /** Training scenarios. */
  List<S> train();

  /** Held-out scenarios. */
  List<S> val();

  /** Runs one scenario with {@code agent} and returns the scored trajectory (reward and a {@code success} metric). */
  Trajectory rollout(AgentLoop agent, S scenario) throws InterruptedException;

  /** Most assistant replies in one rollout. */
  int maxTurns();

  /** Most tokens in one reply. */
  int maxNewTokens();

  /**
   * Wraps the toolset the later rollouts use (e.g. to trace every call); {@link RlLoop} calls it
   * once, before the first rollout. Tasks that build a toolset per rollout ignore it.
   */
  default void decorateTools(UnaryOperator<Toolset> decorator) {}

  @Override
  default void close() {}

  /** More per-trajectory metrics to average into every train and val line (besides reward and success). */
  default List<String> reportedMetrics() {
    return List.of();
  }

  /** The order training scenarios are used in (cycled): by default {@link #train()} shuffled with {@code seed}. */
  default List<S> trainOrder(long seed) {
    List<S> order = new java.util.ArrayList<>(train());
    java.util.Collections.shuffle(order, new java.util.Random(seed));
    return order;
  }
}
