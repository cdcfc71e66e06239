package dev.art4j.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one training step did.
 *
 * <p>Metrics (absent ones are NaN): {@code loss}, {@code grad_norm} (before clipping),
 * {@code learning_rate}, {@code reward} and {@code reward_std} (over all trajectories given),
 * {@code groups_skipped} (fraction of groups without signal), {@code trajectories} (trained),
 * {@code tokens} (trained tokens), {@code tokens_per_s} (sequence tokens forwarded, prompts
 * included, per second of the step), {@code padding_fraction}, {@code forward_backward_s}
 * (advantages, batching, forward and backward passes), {@code optimizer_s} (clipping and AdamW),
 * {@code forward_s}, {@code head_s} and {@code backward_s} (its three parts, summed over the
 * micro-batches: the layers' forward, the LM head with the loss, backward; wall times, exact on the
 * CPU, approximate on CUDA where ops are queued), {@code checkpointed_layers} (recomputed in
 * backward; see {@link TrainConfig#activationCheckpointing()}), {@code selective_checkpointing}
 * (1 when the other layers recomputed their attention core and MLP activation, else 0),
 * {@code seconds} (the whole step, checkpoint and run-store writes excluded), and for GRPO
 * {@code policy_loss}, {@code kl} (k3 to the base model, when {@code klCoef > 0}),
 * {@code clip_fraction} and {@code ratio_mean}.
 *
 * @param step    the step number (1-based; a skipped step still counts)
 * @param skipped true when there was nothing to train on; {@code note} says why
 * @param note    why the step was skipped, else null
 * @param metrics named numbers, as logged to {@code history.jsonl}
 */
public record TrainResult(int step, boolean skipped, String note, Map<String, Double> metrics) {

  public TrainResult {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** A metric, NaN when absent. */
  public double metric(String name) {
    Double v = metrics.get(name);
    return v == null ? Double.NaN : v;
  }

  public double loss() {
    return metric("loss");
  }

  public double gradNorm() {
    return metric("grad_norm");
  }
}
