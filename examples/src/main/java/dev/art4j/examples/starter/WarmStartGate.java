package dev.art4j.examples.starter;

import dev.art4j.core.model.Policy;
import java.util.List;
import java.util.function.ToDoubleBiFunction;

/**
 * A quality bar for a starter's warm start. Whether a tiny model from random weights picks up a
 * skill (say, which board cells are free) in a given number of SFT steps is a matter of chance:
 * two seeds of one recipe can end on either side of it (examples/README.md, tic-tac-toe). With a
 * gate, the warm start measures {@code score} on held-out demonstrations every {@code every}
 * steps and, once its planned {@code sftSteps} are done, goes on at the last learning rate until
 * the score reaches {@code target} or {@code maxSteps} have run.
 *
 * @param metric   what the score measures (logged, and recorded in {@code starter.json})
 * @param target   the score at which the warm start may stop
 * @param every    steps between two measurements
 * @param maxSteps the most SFT steps in all
 * @param heldOut  held-out demonstrations scored (drawn from a seed the training ones never use)
 * @param score    the model's score in [0, 1] on the token ids of the held-out demonstrations
 *                 (each rendered whole by the starter's chat template), adapter on, no gradient
 */
public record WarmStartGate(String metric, double target, int every, int maxSteps, int heldOut,
    ToDoubleBiFunction<Policy, List<int[]>> score) {

  public WarmStartGate {
    if (every < 1 || maxSteps < 1 || heldOut < 1 || !(target > 0 && target <= 1)) {
      throw new IllegalArgumentException("warm-start gate needs every, maxSteps, heldOut >= 1 and 0 < target <= 1");
    }
  }
}
