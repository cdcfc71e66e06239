package dev.art4j.core.model;

import java.util.List;

/**
 * Hyper-parameters of a LoRA adapter, as PEFT writes them in {@code adapter_config.json}.
 * The adapted projection computes {@code y = x W^T + b + scaling * dropout(x) A^T B^T} with
 * {@code A (rank, in)}, {@code B (out, rank)} and {@code scaling = alpha / rank}
 * ({@code alpha / sqrt(rank)} when {@code useRslora}).
 *
 * @param rank r, the inner width of A and B
 * @param alpha lora_alpha
 * @param dropout lora_dropout, applied to the adapter's input while training only
 * @param targetModules short module names ({@code q_proj}, ..., {@code down_proj})
 * @param useRslora rank-stabilised scaling
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

  /** All seven linear projections of a decoder layer. */
  public static final List<String> ALL_LINEAR =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  public LoraConfig {
    if (rank <= 0) {
      throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
    }
    if (dropout < 0 || dropout >= 1) {
      throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
    }
    targetModules = List.copyOf(targetModules);
    for (String t : targetModules) {
      if (Projection.byModuleName(t) == null) {
        throw new IllegalArgumentException("unknown LoRA target module " + t + " (known: " + ALL_LINEAR + ")");
      }
    }
  }

  /** Rank, alpha and dropout over all seven projections. */
  public LoraConfig(int rank, double alpha, double dropout) {
    this(rank, alpha, dropout, ALL_LINEAR, false);
  }

  /** The factor on the low-rank term. */
  public double scaling() {
    return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  /** Whether this adapter adapts a projection. */
  public boolean targets(Projection p) {
    return targetModules.contains(p.moduleName());
  }
}
