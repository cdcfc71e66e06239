package dev.art4j.train;

import ai.djl.ndarray.NDManager;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GRPO on the LoRA adapter of a {@link Policy}: one {@link #train} call is one optimiser step over
 * the given groups.
 *
 * <ol>
 *   <li>Advantages per group, {@code A_i = (r_i - mean(r)) / (std(r) + 1e-6)} (see
 *       {@link TrainConfig#scaleRewards()}); trajectories with {@code A_i == 0} are dropped, and a
 *       step with nothing left is skipped (logged with the reason, still counted).</li>
 *   <li>The policy loss of {@link TrainConfig#lossType()} on the sampled tokens of each
 *       trajectory ({@link dev.art4j.core.trajectory.Trajectory#tokens()}), against the
 *       log-probs recorded at sampling time, plus {@code klCoef * k3} to the base model (the
 *       same network with the adapter switched off), in micro-batches of at most
 *       {@link TrainConfig#tokenBudget()} tokens whose gradients accumulate.</li>
 *   <li>AdamW on the adapter's parameters, in place: the policy's next forward already uses
 *       the new adapter. Base weights never require gradients and never change.</li>
 *   <li>With a {@link RunStore}: a checkpoint {@code checkpoints/<step>/}, then the step's
 *       trajectories and metrics. Built on a run that has checkpoints, the trainer continues
 *       from the latest complete one (adapter, optimiser moments, step).</li>
 * </ol>
 *
 * <pre>{@code
 * try (GrpoTrainer trainer = GrpoTrainer.builder(policy)
 *     .config(TrainConfig.builder().learningRate(1e-5).build())
 *     .runStore(RunStore.open(Path.of(".art"), "math", "agent-001"))
 *     .build()) {
 *   TrainResult r = trainer.train(groups);
 * }
 * }</pre>
 *
 * <p>Not thread-safe; do not sample from the policy while a step runs (the adapter changes in
 * place at the end of the step).
 */
public final class GrpoTrainer extends LoraTrainer {

  private static final Logger log = LoggerFactory.getLogger(GrpoTrainer.class);

  private final PolicyLoss loss;

  private GrpoTrainer(TrainingLoop core) {
    super(core);
    this.loss = new PolicyLoss(core.config);
  }

  public static Builder builder(Policy policy) {
    return new Builder(policy);
  }

  /**
   * One GRPO step on {@code groups}.
   *
   * @throws IllegalStateException if a kept trajectory has no token data
   */
  public TrainResult train(List<TrajectoryGroup> groups) {
    Objects.requireNonNull(groups, "groups");
    long start = System.nanoTime();
    TrainConfig c = core.config;
    int step = core.step() + 1;
    Advantages.Result adv = Advantages.compute(groups, c.effectiveScaleRewards());

    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("reward", adv.rewardMean());
    metrics.put("reward_std", adv.rewardStd());
    metrics.put("groups_skipped", adv.skippedFraction());

    List<Sample> samples = samples(adv);
    if (samples.isEmpty()) {
      String note = "skipped: " + skipReason(adv);
      log.info("step {} {}", step, note);
      metrics.put("trajectories", 0.0);
      metrics.put("tokens", 0.0);
      metrics.put("seconds", (System.nanoTime() - start) / 1e9);
      core.finish(step, groups, metrics, note);
      return new TrainResult(step, true, note, metrics);
    }

    double lr = core.learningRate(step);
    TrainingLoop.Step done = core.step(step, lr, samples, loss, c.lossType() == LossType.GSPO, start);
    StepSums sums = done.sums();
    metrics.put("loss", sums.loss());
    metrics.put("policy_loss", sums.get("policy_loss"));
    if (c.klCoef() > 0) {
      metrics.put("kl", sums.get("kl"));
    }
    metrics.put("clip_fraction", sums.get("clipped") / sums.get("ratio_count"));
    metrics.put("ratio_mean", sums.get("ratio_sum") / sums.get("ratio_count"));
    metrics.put("log_ratio_abs_mean", sums.get("log_ratio_abs_sum") / sums.trained());
    done.putMetrics(metrics);
    core.finish(step, groups, metrics, null);
    return new TrainResult(step, false, null, metrics);
  }

  /** The loss over {@code samples} without an optimiser step (tests: gradients, finite differences). */
  StepSums accumulate(List<Sample> samples, NDManager scope, boolean backward) {
    return core.accumulate(samples, loss, core.config.lossType() == LossType.GSPO, scope, backward);
  }

  /** The kept trajectories as weighted samples (weights per {@link LossType}'s aggregation). */
  List<Sample> samples(Advantages.Result adv) {
    TrainConfig c = core.config;
    List<TokenSequence> seqs = new ArrayList<>();
    List<int[]> positions = new ArrayList<>();
    List<Float> advantages = new ArrayList<>();
    long totalTokens = 0;
    int longest = 0;
    for (Advantages.Scored s : adv.kept()) {
      TokenSequence seq;
      try {
        seq = s.trajectory().tokens();
      } catch (IllegalStateException e) {
        throw new IllegalStateException("group " + s.group() + " trajectory " + s.index() + ": " + e.getMessage(), e);
      }
      Sample.checkIds(seq.ids(), core.policy.config().vocabSize(), "group " + s.group() + " trajectory " + s.index());
      int[] pos = Sample.trainedPositions(seq.sampled());
      if (pos.length == 0) {
        log.warn("group {} trajectory {} has no sampled tokens; not trained", s.group(), s.index());
        continue;
      }
      seqs.add(seq);
      positions.add(pos);
      advantages.add((float) s.advantage());
      totalTokens += pos.length;
      longest = Math.max(longest, pos.length);
    }
    int n = seqs.size();
    int maxCompletion = c.maxCompletionTokens() > 0 ? c.maxCompletionTokens() : longest;
    List<Sample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int[] pos = positions.get(i);
      float w = c.lossType().tokenWeight(pos.length, n, totalTokens, maxCompletion);
      float[] weights = new float[pos.length];
      java.util.Arrays.fill(weights, w);
      float[] old = new float[pos.length];
      float[] temperatures = new float[pos.length];
      float[] lp = seqs.get(i).logprobs();
      for (int j = 0; j < pos.length; j++) {
        old[j] = lp[pos[j]];
        temperatures[j] = seqs.get(i).temperatures()[pos[j]];
        if (!Float.isFinite(old[j])) {
          throw new IllegalStateException("trajectory " + i + " has sampled token at position " + pos[j]
              + " with log-prob " + old[j]);
        }
      }
      out.add(new Sample(seqs.get(i).ids(), pos, old, temperatures, weights, advantages.get(i), (float) (1.0 / n)));
    }
    return out;
  }

  private static String skipReason(Advantages.Result adv) {
    if (adv.groups() == 0) {
      return "no groups";
    }
    if (adv.trajectories() == 0) {
      return "no trajectories in " + adv.groups() + " groups";
    }
    if (adv.kept().isEmpty()) {
      return "all " + adv.groups() + " groups have equal rewards (no advantage signal)";
    }
    return "no trajectory with a non-zero advantage has sampled tokens";
  }

  /** Options of a {@link GrpoTrainer}: see {@link TrainerBuilder}. */
  public static final class Builder extends TrainerBuilder<GrpoTrainer, Builder> {
    private Builder(Policy policy) {
      super(policy);
    }

    @Override
    public GrpoTrainer build() {
      return new GrpoTrainer(new TrainingLoop(policy, options, "grpo"));
    }
  }
}
