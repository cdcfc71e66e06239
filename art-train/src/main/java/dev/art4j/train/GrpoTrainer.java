package dev.art4j.train;

import ai.djl.ndarray.NDArray;
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

  private GrpoTrainer(LoraTraining core) {
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
    LoraTraining.Update<Pass> update = core.update(step, lr, scope -> accumulate(samples, scope, true));
    Pass pass = update.pass();
    metrics.put("loss", pass.loss());
    metrics.put("policy_loss", pass.policyLoss());
    if (c.klCoef() > 0) {
      metrics.put("kl", pass.kl());
    }
    metrics.put("clip_fraction", pass.clipped() / pass.ratioCount());
    metrics.put("ratio_mean", pass.ratioSum() / pass.ratioCount());
    metrics.put("log_ratio_abs_mean", pass.logRatioAbsSum() / pass.trained());
    update.putMetrics(metrics, start, lr, samples.size(), pass.trained(), pass.realTokens(), pass.slots());
    core.finish(step, groups, metrics, null);
    return new TrainResult(step, false, null, metrics);
  }

  /** Sums over the micro-batches of one pass. */
  record Pass(double loss, double policyLoss, double kl, double clipped, double ratioSum, long ratioCount,
      double logRatioAbsSum, long realTokens, long slots, int trained) {}

  /**
   * The loss over {@code samples}, micro-batch by micro-batch; with {@code backward}, each
   * micro-batch's gradients accumulate into the adapter's parameters.
   */
  Pass accumulate(List<Sample> samples, NDManager scope, boolean backward) {
    TrainConfig c = core.config;
    double total = 0;
    double policyLoss = 0;
    double kl = 0;
    double clipped = 0;
    double ratioSum = 0;
    long ratioCount = 0;
    double logRatioAbsSum = 0;
    long realTokens = 0;
    long slots = 0;
    int trained = 0;
    for (MicroBatch mb : MicroBatch.plan(samples, c.tokenBudget())) {
      try (NDManager m = scope.newSubManager()) {
        MicroBatch.Tensors t = mb.tensors(m, c.lossType() == LossType.GSPO);
        // reference pass outside the collector: grad mode off, no graph kept
        NDArray ref = c.klCoef() > 0 ? t.referenceLogprobs(core.policy.model(), m) : null;
        PolicyLoss.Output out = core.forwardBackward(t, backward, lp -> loss.compute(t.lossInputs(lp, ref)),
            PolicyLoss.Output::loss);
        total += out.loss().getFloat();
        policyLoss += out.policyLoss();
        kl += out.kl();
        clipped += out.clipped();
        ratioSum += out.ratioSum();
        logRatioAbsSum += out.logRatioAbsSum();
      }
      ratioCount += c.lossType() == LossType.GSPO ? mb.rows.size() : mb.trainedTokens();
      realTokens += mb.realTokens();
      slots += mb.slots();
      trained += mb.trainedTokens();
    }
    return new Pass(total, policyLoss, kl, clipped, ratioSum, ratioCount, logRatioAbsSum, realTokens, slots, trained);
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
      float w = switch (c.lossType()) {
        case DAPO -> (float) (1.0 / totalTokens);
        case DR_GRPO -> (float) (1.0 / ((double) n * maxCompletion));
        default -> (float) (1.0 / ((double) pos.length * n));
      };
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
      return new GrpoTrainer(new LoraTraining(policy, options, "grpo"));
    }
  }
}
