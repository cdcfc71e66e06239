package dev.art4j.train;

import dev.art4j.core.model.Lora;
import java.nio.file.Path;

/**
 * What every trainer of a policy's LoRA adapter shares: its step count, config, the adapter it
 * updates in place, and checkpoints. {@link GrpoTrainer} and {@link SftTrainer} add their
 * {@code train} methods.
 */
public abstract class LoraTrainer implements AutoCloseable {

  final TrainingLoop core;

  LoraTrainer(TrainingLoop core) {
    this.core = core;
  }

  /** The number of steps taken (including skipped ones and those before a resume). */
  public int step() {
    return core.step();
  }

  public TrainConfig config() {
    return core.config;
  }

  /** The adapter being trained (also {@code policy.adapter()}). */
  public Lora adapter() {
    return core.adapter;
  }

  /** Writes a checkpoint of the current step now (one is written after every step by default). */
  public Path checkpoint() {
    return core.checkpoint();
  }

  /** Frees the optimiser state (the adapter belongs to the policy). */
  @Override
  public void close() {
    core.close();
  }

  /** Package-private access for tests. */
  TrainingLoop core() {
    return core;
  }
}
