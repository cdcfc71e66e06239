package dev.art4j.examples.rl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.report.ReportWriter;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.reward.ruler.Ruler;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.engine.SamplingParams;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The RL loop every {@code art4j train} example runs: per step, {@code groupsPerStep} training
 * scenarios, each rolled out {@code groupSize} times at the sampling temperature, scored, one
 * GRPO step on the LoRA adapter, the engine switched to the new adapter. Held-out scenarios are
 * played greedily (temperature 0) before the first step, every {@code evalEvery} steps and after
 * the last. Everything goes to the run store (the trainer writes checkpoints, trajectories and
 * its metrics; this loop adds the task's metrics and the evaluations), and {@code report.html}
 * is rewritten at the end. A run folder with checkpoints resumes from its latest one.
 *
 * <p>Per step it prints {@code reward_mean}, {@code success_rate}, the rollouts' sampled
 * tokens per second and the seconds since start; with {@code json}, one JSON object per line.
 */
public final class RlLoop<S> {

  /**
   * Loop options.
   *
   * @param steps         train until this step (a resumed run continues up to it)
   * @param groupSize     rollouts per scenario (GRPO compares within a group)
   * @param groupsPerStep scenarios per step
   * @param seed          seeds scenario order, LoRA init and sampling
   * @param evalEvery     held-out evaluation period in steps (0 = only before and after)
   * @param json          one JSON line per step on stdout instead of a table
   * @param learningRate  AdamW learning rate of the LoRA adapter
   * @param loraRank      LoRA rank (alpha = 2 rank)
   * @param temperature   sampling temperature of training rollouts
   * @param maxTokens     most tokens in one conversation
   * @param ruler         an LLM judge that replaces the rule-based reward, or null
   * @param klCoef        weight of the KL penalty to the model without the adapter (0 = off)
   * @param inferenceDtype how the engine holds the base weights
   */
  public record Options(int steps, int groupSize, int groupsPerStep, long seed, int evalEvery, boolean json,
      double learningRate, int loraRank, double temperature, int maxTokens, Ruler ruler, double klCoef,
      InferenceDtype inferenceDtype) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RlTask<S> task;
  private final Options o;
  private final PrintWriter out;
  private final long start = System.nanoTime();

  public RlLoop(RlTask<S> task, Options options, PrintWriter out) {
    this.task = task;
    this.o = options;
    this.out = out;
  }

  /** Trains {@code policy} in {@code store}; returns the last held-out success rate. */
  public double run(Policy policy, ChatFormat format, RunStore store) throws InterruptedException {
    TrainConfig config = TrainConfig.builder().learningRate(o.learningRate()).maxGradNorm(1.0).klCoef(o.klCoef())
        .seed(o.seed()).build();
    try (GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).runStore(store)
             .lora(new LoraConfig(o.loraRank(), 2.0 * o.loraRank(), 0.0), o.seed()).build();
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(o.seed())
             .inferenceDtype(o.inferenceDtype()).build()) {
      engine.refreshAdapter();
      AgentLoop sampler = AgentLoop.builder(engine, format).maxTurns(task.maxTurns()).maxTokens(o.maxTokens())
          .sampling(SamplingParams.builder().temperature(o.temperature()).maxNewTokens(task.maxNewTokens()).build())
          .build();
      AgentLoop greedy = AgentLoop.builder(engine, format).maxTurns(task.maxTurns()).maxTokens(o.maxTokens())
          .sampling(SamplingParams.greedy(task.maxNewTokens())).build();

      int first = trainer.step() + 1;
      double valSuccess = Double.NaN;
      if (first > o.steps()) {
        if (!o.json()) {
          out.println("run already at step " + trainer.step() + " (>= --steps " + o.steps() + "); nothing to train");
          out.flush();
        }
        return valSuccess;
      }
      if (first == 1) {
        valSuccess = evaluate(greedy, store, 0);
      } else if (!o.json()) {
        out.printf(Locale.ROOT, "resuming %s at step %d%n", store.dir(), first);
        out.flush();
      }
      List<S> order = task.trainOrder(o.seed());
      // a group the judge failed on is left out of training (emptied here, removed below): its
      // rule-based rewards must not be mixed with the judge's scores of the other groups
      UnaryOperator<TrajectoryGroup> judge = o.ruler() == null ? g -> g
          : g -> o.ruler().score(g).orElseGet(() -> new TrajectoryGroup(List.of(), g.exceptions()));
      for (int step = first; step <= o.steps(); step++) {
        List<S> batch = new ArrayList<>(o.groupsPerStep());
        for (int i = 0; i < o.groupsPerStep(); i++) {
          batch.add(order.get(((step - 1) * o.groupsPerStep() + i) % order.size()));
        }
        long r0 = System.nanoTime();
        // seeded by step and place, so that a run (and a resumed run) samples the same rollouts
        // whatever order the concurrent rollouts reach the engine in
        List<TrajectoryGroup> groups = Gather.builder(batch, (S s, long seed) -> task.rollout(sampler.withSeed(seed), s))
            .seed(gatherSeed(o.seed(), step)).groupSize(o.groupSize()).concurrency(o.groupSize() * o.groupsPerStep())
            .maxExceptionFraction(0.25).afterEach(judge).progress(null).taskName(task.name()).build().run();
        if (o.ruler() != null) {
          groups = new ArrayList<>(groups);
          groups.removeIf(g -> g.trajectories().isEmpty());
        }
        double rolloutSeconds = (System.nanoTime() - r0) / 1e9;
        TrainResult result = trainer.train(groups);
        engine.refreshAdapter();

        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward_mean", mean(groups, t -> t.reward()));
        m.put("success_rate", mean(groups, t -> t.metrics().getOrDefault("success", 0.0)));
        putReported(m, groups);
        m.put("tokens_per_second", sum(groups, t -> t.metrics().getOrDefault("sampled_tokens", 0.0)) / rolloutSeconds);
        m.put("rollout_seconds", rolloutSeconds);
        m.put("train_seconds", result.metric("seconds"));
        m.put("seconds", seconds());
        store.appendHistory(new HistoryEntry(step, "train", m, result.skipped() ? result.note() : null,
            Instant.now().toString()));
        printTrain(step, m, result);
        if (step == o.steps() || (o.evalEvery() > 0 && step % o.evalEvery() == 0)) {
          valSuccess = evaluate(greedy, store, step);
        }
      }
      ReportWriter.write(store.dir());
      return valSuccess;
    }
  }

  /**
   * The seed of step {@code step}'s gather. Its rollouts get the outputs of a SplittableRandom
   * seeded with it, {@code mix64(seed + k * gamma)}; with {@code R + step} for a random R those
   * never repeat across steps (a seed built as {@code seed ^ step * gamma} made step s + 2 reuse
   * step s's seeds, two rollouts along).
   */
  static long gatherSeed(long runSeed, int step) {
    return new SplittableRandom(runSeed).nextLong() + step;
  }

  /** Plays every held-out scenario once, greedily; logs and prints the success rate. */
  private double evaluate(AgentLoop greedy, RunStore store, int step) {
    List<TrajectoryGroup> groups = Gather.builder(task.val(), (S s) -> task.rollout(greedy, s))
        .groupSize(1).concurrency(Math.min(64, task.val().size())).maxExceptionFraction(0.25)
        .progress(null).taskName(task.name() + " val").build().run();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("reward_mean", mean(groups, Trajectory::reward));
    m.put("success_rate", mean(groups, t -> t.metrics().getOrDefault("success", 0.0)));
    putReported(m, groups);
    m.put("seconds", seconds());
    store.log(groups, "val", m, step);
    if (o.json()) {
      ObjectNode line = JSON.createObjectNode().put("step", step).put("split", "val");
      m.forEach(line::put);
      out.println(line);
    } else {
      out.printf(Locale.ROOT, "step %4d  val    success %5.1f%%  reward %.3f%s  (%d held-out scenarios, greedy)  %6.1f s%n",
          step, 100 * m.get("success_rate"), m.get("reward_mean"), reported(m), task.val().size(), m.get("seconds"));
    }
    out.flush();
    return m.get("success_rate");
  }

  private void printTrain(int step, Map<String, Double> m, TrainResult r) {
    if (o.json()) {
      ObjectNode line = JSON.createObjectNode().put("step", step).put("split", "train");
      line.put("reward_mean", m.get("reward_mean"));
      line.put("success_rate", m.get("success_rate"));
      for (String k : task.reportedMetrics()) {
        line.put(k, m.get(k));
      }
      line.put("seconds", m.get("seconds"));
      line.put("tokens_per_second", m.get("tokens_per_second"));
      line.put("loss", r.skipped() ? Double.NaN : r.loss());
      if (r.skipped()) {
        line.put("skipped", r.note());
      }
      out.println(line);
    } else {
      out.printf(Locale.ROOT, "step %4d  train  success %5.1f%%  reward %.3f%s  loss %s  %6.0f tok/s  %6.1f s%s%n",
          step, 100 * m.get("success_rate"), m.get("reward_mean"), reported(m),
          r.skipped() ? "   -   " : String.format(Locale.ROOT, "%7.4f", r.loss()), m.get("tokens_per_second"),
          m.get("seconds"), r.skipped() ? "  (" + r.note() + ")" : "");
    }
    out.flush();
  }

  /** The task's reported metrics as {@code "  illegal 12.5%"} (rates). */
  private String reported(Map<String, Double> m) {
    StringBuilder sb = new StringBuilder();
    for (String k : task.reportedMetrics()) {
      sb.append(String.format(Locale.ROOT, "  %s %5.1f%%", k, 100 * m.get(k)));
    }
    return sb.toString();
  }

  private void putReported(Map<String, Double> m, List<TrajectoryGroup> groups) {
    for (String k : task.reportedMetrics()) {
      m.put(k, mean(groups, t -> t.metrics().getOrDefault(k, 0.0)));
    }
  }

  private double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  private static double mean(List<TrajectoryGroup> groups, java.util.function.ToDoubleFunction<Trajectory> f) {
    return groups.stream().flatMap(g -> g.trajectories().stream()).mapToDouble(f).average().orElse(Double.NaN);
  }

  private static double sum(List<TrajectoryGroup> groups, java.util.function.ToDoubleFunction<Trajectory> f) {
    return groups.stream().flatMap(g -> g.trajectories().stream()).mapToDouble(f).sum();
  }
}
