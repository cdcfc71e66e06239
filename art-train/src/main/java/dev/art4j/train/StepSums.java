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

  /** Seconds in the layers' forward, in the LM head and the loss, and in backward (names of {@link #get}). */
  static final String FORWARD_S = "forward_s", HEAD_S = "head_s", BACKWARD_S = "backward_s";

  /**
   * Adds a micro-batch's phases from their boundaries (nanoTime): layers {@code [t0, t1)}, head and
   * loss {@code [t1, t2)}, backward {@code [t2, t3)}. Wall times: on the CPU each op has finished
   * when it returns; on CUDA ops are queued, so there a phase's time is partly the next one's.
   */
  void addPhases(long t0, long t1, long t2, long t3) {
    add(FORWARD_S, (t1 - t0) / 1e9);
    add(HEAD_S, (t2 - t1) / 1e9);
    add(BACKWARD_S, (t3 - t2) / 1e9);
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
