package dev.art4j.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one pass over a step's micro-batches adds up: the loss, the figures the loss reports
 * (named, e.g. {@code ratio_sum}), and the token counts of the micro-batches.
 */
final class StepSums {

  private double loss;
  private final Map<String, Double> named = new LinkedHashMap<>();
  private long realTokens;
  private long slots;
  private int trained;

  /** Adds {@code v} to the figure {@code name}. */
  void add(String name, double v) {
    named.merge(name, v, Double::sum);
  }

  void addMicroBatch(double microBatchLoss, MicroBatch mb) {
    loss += microBatchLoss;
    realTokens += mb.realTokens();
    slots += mb.slots();
    trained += mb.trainedTokens();
  }

  /** The step's loss: the sum of the micro-batch losses. */
  double loss() {
    return loss;
  }

  /** A figure's sum (0 when no micro-batch reported it). */
  double get(String name) {
    return named.getOrDefault(name, 0.0);
  }

  long realTokens() {
    return realTokens;
  }

  long slots() {
    return slots;
  }

  int trained() {
    return trained;
  }
}
