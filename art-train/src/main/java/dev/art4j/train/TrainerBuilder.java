package dev.art4j.train;

import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import java.util.Objects;

/**
 * Options every trainer takes: the config, the run store, the adapter to create, how often to
 * checkpoint, and whether to resume. {@link GrpoTrainer.Builder} and {@link SftTrainer.Builder}
 * add nothing else; they only name what {@link #build()} returns.
 *
 * @param <T> the trainer built
 * @param <B> the concrete builder, returned by every option for chaining
 */
public abstract class TrainerBuilder<T, B extends TrainerBuilder<T, B>> {
  final Policy policy;
  final TrainingLoop.Options options = new TrainingLoop.Options();

  TrainerBuilder(Policy policy) {
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** Loss, optimiser and batching options (default {@link TrainConfig#defaults()}). */
  public B config(TrainConfig config) {
    options.config = Objects.requireNonNull(config, "config");
    return self();
  }

  /** Where checkpoints, history and trajectories go; without one nothing is written. */
  public B runStore(RunStore store) {
    options.store = store;
    return self();
  }

  /**
   * The adapter to create when the policy has none and there is no checkpoint to resume
   * (default rank 8, alpha 16, no dropout, all seven projections), and the seed of its A.
   */
  public B lora(LoraConfig config, long seed) {
    options.lora = Objects.requireNonNull(config, "config");
    options.loraSeed = seed;
    return self();
  }

  /** Write a checkpoint every {@code n} steps (default 1; 0 = never). */
  public B checkpointEvery(int n) {
    options.checkpointEvery = n;
    return self();
  }

  /**
   * Whether to continue from the run store's latest checkpoint (default true). Resuming loads
   * the checkpoint's adapter and puts it in use with {@link Policy#setAdapter}; an adapter the
   * policy had before is left to its owner (it lives until the policy closes).
   */
  public B resume(boolean resume) {
    options.resume = resume;
    return self();
  }

  /** The trainer; resumes from the run store's latest checkpoint unless told not to. */
  public abstract T build();
}
