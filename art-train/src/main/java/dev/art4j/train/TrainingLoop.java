package dev.art4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.art4j.core.model.CheckpointedForward;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Transformer;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one training loop of the GRPO and SFT trainers, which differ only in the samples they build
 * and the {@link TrainingLoss} they pass: {@link #step} runs, in nanoGPT's order, forward -> loss ->
 * backward for every micro-batch (gradients accumulate), then gradient clipping and AdamW, and
 * {@link #finish} writes the checkpoint, then the history. It holds what that needs: the policy
 * and the adapter being trained, AdamW over the adapter's parameters, the step counter and the
 * run store, and it resumes from the latest complete checkpoint.
 */
final class TrainingLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrainingLoop.class);

  /** Builder options common to both trainers. */
  static final class Options {
    TrainConfig config = TrainConfig.defaults();
    RunStore store;
    LoraConfig lora = new LoraConfig(8, 16, 0.0);
    long loraSeed = 0;
    int checkpointEvery = 1;
    boolean resume = true;
  }

  final Policy policy;
  final Lora adapter;
  final TrainConfig config;
  final RunStore store;
  final AdamW optimizer;
  final String trainer;
  private final int checkpointEvery;
  private int step;
  private ActivationMemory.Plan lastPlan;

  /** Test hook: runs inside a checkpoint folder after the adapter is written (a fault there = a kill). */
  RunStore.CheckpointWriter checkpointFault;

  TrainingLoop(Policy policy, Options o, String trainer) {
    this.policy = policy;
    this.config = o.config;
    this.store = o.store;
    this.trainer = trainer;
    if (o.checkpointEvery < 0) {
      throw new IllegalArgumentException("checkpointEvery must be >= 0 (0 = never), got " + o.checkpointEvery);
    }
    this.checkpointEvery = o.checkpointEvery;
    if (o.resume && store != null) {
      // a checkpoint is written before its step's history line: one without it (a kill or a
      // failed write in between) is rolled back, and its step is trained again
      store.rollBackToCommitted("train", h -> true);
    }
    Optional<Path> latest = o.resume && store != null ? store.latestCheckpoint() : Optional.empty();
    TrainerState state = null;
    if (latest.isPresent()) {
      try {
        state = TrainerState.read(latest.get());
        Lora loaded = policy.loadAdapter(latest.get());
        policy.setAdapter(loaded);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot resume from " + latest.get(), e);
      }
      log.info("resuming {} from {} (step {})", trainer, latest.get(), state.step());
    } else if (policy.adapter() == null) {
      policy.setAdapter(policy.newAdapter(o.lora, o.loraSeed));
    }
    this.adapter = policy.adapter();
    for (NDArray w : baseWeights()) {
      if (w.hasGradient()) {
        throw new IllegalStateException("a base weight requires gradients; only LoRA parameters may");
      }
    }
    this.optimizer = new AdamW(adapter.parameterNames(), adapter.parameters(), policy.manager());
    if (state != null) {
      try {
        optimizer.load(latest.get().resolve("optimizer.safetensors"), state.optimizerSteps());
      } catch (IOException e) {
        optimizer.close();
        throw new UncheckedIOException("cannot resume optimizer state from " + latest.get(), e);
      }
      step = state.step();
    }
  }

  int step() {
    return step;
  }

  /** The learning rate of step {@code s}. */
  double learningRate(int s) {
    return config.schedule().at(s, config.learningRate(), config.warmupSteps());
  }

  /** Seeds PyTorch for step {@code s}: dropout masks depend on the seed and the step only. */
  void seed(int s) {
    Engine.getInstance().setRandomSeed((int) (config.seed() + s));
  }

  /** A manager for the arrays of one step, on the policy's device; close it when the step ends. */
  NDManager newScope() {
    return policy.manager().newSubManager();
  }

  /**
   * Ends step {@code s}: checkpoints when due, then appends the step to the run store (with
   * {@code groups}' trajectories when non-null). Checkpoint first: a kill in between loses a
   * history line, never duplicates one after resuming.
   */
  void finish(int s, List<TrajectoryGroup> groups, Map<String, Double> metrics, String note) {
    step = s;
    if (store == null) {
      return;
    }
    if (checkpointEvery > 0 && s % checkpointEvery == 0) {
      checkpoint();
    }
    if (groups != null) {
      store.log(groups, "train", metrics, s, note);
    } else {
      store.appendHistory(new HistoryEntry(s, "train", metrics, note, Instant.now().toString()));
    }
  }

  /** Writes {@code checkpoints/<step>/} now (adapter, optimizer, trainer state), atomically. */
  Path checkpoint() {
    if (store == null) {
      throw new IllegalStateException("no run store configured");
    }
    TrainerState state = new TrainerState(step, optimizer.steps(), trainer, config.seed(),
        config.seed() + step + 1, config);
    return store.writeCheckpoint(step, dir -> {
      adapter.save(dir);
      if (checkpointFault != null) {
        checkpointFault.write(dir);
      }
      optimizer.save(dir.resolve("optimizer.safetensors"));
      state.write(dir);
    });
  }

  /** Every base weight of the model (none may ever require gradients). */
  List<NDArray> baseWeights() {
    var w = policy.model().weights();
    java.util.ArrayList<NDArray> out = new java.util.ArrayList<>();
    out.add(w.embedding());
    out.add(w.norm());
    out.add(w.lmHead());
    for (var layer : w.layers()) {
      for (var c : layer.getClass().getRecordComponents()) {
        try {
          Object v = c.getAccessor().invoke(layer);
          if (v instanceof NDArray a) {
            out.add(a);
          }
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    optimizer.close();
  }

  /**
   * One optimiser step over {@code samples}: seeds the step's dropout, then
   * <ol>
   *   <li>per micro-batch: the base model's log-probs when the loss wants a reference (no graph),
   *       forward with the adapter to the trained tokens' log-probs, the loss, backward (gradients
   *       add up in the adapter's parameters);</li>
   *   <li>clip the global gradient norm and apply AdamW at {@code lr} ({@link AdamW}).</li>
   * </ol>
   * A pass that throws leaves no gradients behind for the next step to add to.
   *
   * @param start when the trainer's step began (nanoTime), for the reported phase times
   */
  Step step(int step, double lr, List<Sample> samples, TrainingLoss loss, boolean segments, long start) {
    seed(step);
    adapter.setTraining(true);
    try (NDManager scope = newScope()) {
      StepSums sums;
      try {
        sums = accumulate(samples, loss, segments, scope, true);
      } catch (RuntimeException e) {
        optimizer.zeroGradients(scope);
        throw outOfMemory(e);
      }
      long backwardDone = System.nanoTime();
      double gradNorm = optimizer.step(lr, config, scope);
      if (!Double.isFinite(gradNorm)) {
        log.warn("step {}: gradient norm {}, update skipped", step, gradNorm);
      }
      return new Step(sums, samples.size(), lr, gradNorm, lastPlan, start, backwardDone, System.nanoTime());
    } finally {
      adapter.setTraining(false);
    }
  }

  /**
   * The loss over {@code samples}, micro-batch by micro-batch; with {@code backward}, each
   * micro-batch's gradients accumulate into the adapter's parameters (through activation
   * checkpointing when the config asks for it).
   *
   * @param segments whether the micro-batches need their token-to-sequence matrix (GSPO)
   */
  StepSums accumulate(List<Sample> samples, TrainingLoss loss, boolean segments, NDManager scope, boolean backward) {
    StepSums sums = new StepSums();
    Transformer model = policy.model();
    ActivationMemory.Plan plan = backward ? checkpointing() : null; // a pass without backward keeps no graph
    for (MicroBatch mb : MicroBatch.plan(samples, config.tokenBudget())) {
      try (NDManager m = scope.newSubManager()) {
        MicroBatch.Tensors t = mb.tensors(m, segments);
        // the reference pass runs outside the collector: grad mode off, no graph kept
        NDArray ref = loss.needsReference() ? t.referenceLogprobs(model, m) : null;
        NDArray value;
        if (!backward) {
          value = loss.compute(t, t.logprobs(model, adapter), ref, sums);
        } else if (plan.checkpointedLayers() > 0 || plan.selective()) {
          long t0 = System.nanoTime();
          CheckpointedForward forward = t.checkpointed(model, adapter, plan.checkpointedLayers(), plan.selective());
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray hidden = forward.hidden();
            long t1 = System.nanoTime();
            value = loss.compute(t, t.logprobs(model, hidden), ref, sums);
            long t2 = System.nanoTime();
            forward.backward(gc, value);
            sums.addPhases(t0, t1, t2, System.nanoTime());
          }
        } else {
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            long t0 = System.nanoTime();
            NDArray hidden = t.hidden(model, adapter);
            long t1 = System.nanoTime();
            value = loss.compute(t, t.logprobs(model, hidden), ref, sums);
            long t2 = System.nanoTime();
            gc.backward(value);
            sums.addPhases(t0, t1, t2, System.nanoTime());
          }
        }
        sums.addMicroBatch(value.getFloat(), mb);
      }
    }
    return sums;
  }

  /** What this step recomputes, logged when it changes. */
  private ActivationMemory.Plan checkpointing() {
    ActivationMemory.Plan plan = config.checkpointing(policy.config(), config.tokenBudget(), policy.model().dataType(),
        policy.device());
    if (!plan.equals(lastPlan)) {
      log.info("activation checkpointing: {} of {} layers recomputed in backward, the others {} ({})",
          plan.checkpointedLayers(), policy.config().numHiddenLayers(), plan.selective() ? "selectively" : "kept whole",
          config.activationCheckpointing() == null || config.selectiveCheckpointing() == null
              ? "auto, for the memory available" : "as configured");
      lastPlan = plan;
    }
    return plan;
  }

  /** A device out-of-memory error said plainly, with the knobs that lower a step's memory; others as they are. */
  static RuntimeException outOfMemory(RuntimeException e) {
    if (e instanceof ai.djl.engine.EngineException && (String.valueOf(e.getMessage()).contains("out of memory")
        || String.valueOf(e.getMessage()).contains("can't allocate memory"))) {
      return new IllegalStateException("out of device memory in a training step: lower the micro-batch token budget "
          + "(TrainConfig.tokenBudget) or checkpoint more layers (TrainConfig.activationCheckpointing); the run store "
          + "keeps the last complete step", e);
    }
    return e;
  }

  /** One {@link #step}: its sums, the gradient norm, and when each phase ended (nanoTime). */
  record Step(StepSums sums, int sequences, double lr, double gradNorm, ActivationMemory.Plan checkpointing, long start,
      long backwardDone, long optimizerDone) {

    /**
     * Adds what every trainer reports after its own metrics: gradient norm, learning rate,
     * sequences and tokens trained, throughput, padding, the time of each phase and the layers recomputed.
     */
    void putMetrics(Map<String, Double> metrics) {
      double seconds = (optimizerDone - start) / 1e9;
      metrics.put("grad_norm", gradNorm);
      metrics.put("learning_rate", lr);
      metrics.put("trajectories", (double) sequences);
      metrics.put("tokens", (double) sums.trained());
      metrics.put("tokens_per_s", sums.realTokens() / seconds);
      metrics.put("padding_fraction", 1.0 - (double) sums.realTokens() / sums.slots());
      metrics.put("forward_backward_s", (backwardDone - start) / 1e9);
      metrics.put("optimizer_s", (optimizerDone - backwardDone) / 1e9);
      metrics.put("forward_s", sums.get(StepSums.FORWARD_S));
      metrics.put("head_s", sums.get(StepSums.HEAD_S));
      metrics.put("backward_s", sums.get(StepSums.BACKWARD_S));
      metrics.put("checkpointed_layers", (double) checkpointing.checkpointedLayers());
      metrics.put("selective_checkpointing", checkpointing.selective() ? 1.0 : 0.0);
      metrics.put("seconds", seconds);
    }
  }
}
