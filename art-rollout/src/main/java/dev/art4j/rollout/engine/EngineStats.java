package dev.art4j.rollout.engine;

import java.util.Map;

/**
 * A read-only snapshot of what an {@link InferenceEngine} has done since it started, for
 * benchmarks and monitoring. Figures are cumulative: the time a phase spent is the difference of
 * two snapshots, {@code (b.millis(op) - a.millis(op)) / (b.steps() - a.steps())} per step.
 *
 * @param backend           which backend computes the steps
 * @param inferenceDtype    the weights the Java backend reads ({@code FP32} for the tensor backend)
 * @param kernels           the CPU kernels in use (Vector API or plain Java)
 * @param steps             forward steps run
 * @param millisByOp        wall time summed over those steps per kind of operation (embed, norm,
 *                          matmuls, attention, LoRA, sampling, ...), in milliseconds
 * @param completedRequests requests completed
 * @param kvUsage           fraction of the KV budget held now, in [0, 1]
 */
public record EngineStats(Backend backend, InferenceDtype inferenceDtype, String kernels, long steps,
    Map<String, Double> millisByOp, long completedRequests, double kvUsage) {

  public EngineStats {
    millisByOp = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(millisByOp)); // in step order
  }

  /** Milliseconds spent in {@code op} (lower case, e.g. {@code "attention"}), 0 when it never ran. */
  public double millis(String op) {
    return millisByOp.getOrDefault(op, 0.0);
  }
}
