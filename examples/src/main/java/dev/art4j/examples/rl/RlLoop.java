package dev.art4j.examples.rl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.report.ReportWriter;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.ToolErrorStats;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.usage.TokenPrices;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.otel.ModelCallSpan;
import dev.art4j.otel.RolloutSpan;
import dev.art4j.otel.Telemetry;
import dev.art4j.reward.ruler.Ruler;
import dev.art4j.reward.ruler.RulerException;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.Backend;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

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
 *
 * <p>Token and cost metrics in {@code history.jsonl}: {@code rollout/prompt_tokens} and
 * {@code rollout/sampled_tokens} (summed over the step's rollouts); with a judge,
 * {@code judge/requests}, {@code judge/input_tokens} and {@code judge/output_tokens} of the
 * step, and, when the judge has prices, {@code costs/judge} (the step's) and
 * {@code costs/judge_total} (the run's so far, carried over a resume). Failed tool calls by kind
 * and by tool: {@code tool_errors/...} ({@link ToolErrorStats}).
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
      Backend backend, InferenceDtype inferenceDtype) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  /** A metric only this loop's train line has: its presence commits the step. */
  private static final String COMMIT_METRIC = "rollout_seconds";

  private final RlTask<S> task;
  private final Options o;
  private final PrintWriter out;
  private final long start = System.nanoTime();
  private Telemetry telemetry = Telemetry.disabled();
  private RemoteRollouts remote;

  public RlLoop(RlTask<S> task, Options options, PrintWriter out) {
    this.task = task;
    this.o = options;
    this.out = out;
  }

  /**
   * Traces the run with OpenTelemetry (art-otel): a trace per rollout with its model and tool
   * calls, a span per training step, every history line as metrics. Default: off.
   */
  public RlLoop<S> telemetry(Telemetry telemetry) {
    this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
    return this;
  }

  /**
   * Rolls out on {@code fleet} instead of in-process: each step's checkpoint is loaded on the
   * servers, and with {@code maxStepsOffPolicy = K > 0} the rollouts of the next K steps run while
   * a step trains (each trajectory records the adapter step it was sampled from in its metadata,
   * {@code policy_step}; the history logs the data's {@code staleness} in steps).
   */
  public RlLoop<S> remote(RemoteRollouts fleet) {
    this.remote = fleet;
    return this;
  }

  /** One step's rollouts and the adapter step they were sampled from. */
  private record Gathered(List<TrajectoryGroup> groups, int policyStep, double seconds, Instant start) {}

  /** Trains {@code policy} in {@code store}; returns the last held-out success rate. */
  public double run(Policy policy, ChatFormat format, RunStore store) throws InterruptedException {
    TrainConfig config = TrainConfig.builder().learningRate(o.learningRate()).maxGradNorm(1.0).klCoef(o.klCoef())
        .seed(o.seed()).build();
    // a step is committed by this loop's history line, written after the trainer's checkpoint: a
    // checkpoint without it (a kill or failed write in between) is trained again, not skipped
    store.rollBackToCommitted("train", h -> h.metrics().containsKey(COMMIT_METRIC));
    int ahead = remote == null ? 0 : remote.maxStepsOffPolicy();
    ExecutorService background = ahead == 0 ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "rollouts-ahead");
      t.setDaemon(true);
      return t;
    });
    String modelName = policy.directory().getFileName().toString();
    try (GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).runStore(store)
             .lora(new LoraConfig(o.loraRank(), 2.0 * o.loraRank(), 0.0), o.seed()).build();
         Rollouts rollouts = remote == null ? Rollouts.local(policy, o.backend(), o.inferenceDtype(), o.seed())
             : Rollouts.remote(remote, store, store.dir().getFileName().toString(), trainer.step())) {
      if (telemetry.enabled()) {
        task.decorateTools(t -> telemetry.traced(t, name -> t instanceof McpToolset m ? m.server(name).orElse(null) : null));
      }
      Supplier<AgentLoop> greedy = () -> AgentLoop.builder(traced(rollouts.source(), modelName), format)
          .maxTurns(task.maxTurns()).maxTokens(o.maxTokens()).sampling(SamplingParams.greedy(task.maxNewTokens())).build();

      int first = trainer.step() + 1;
      // an evaluation killed before its line was written is run again, like a step
      double valSuccess = lastValSuccess(store, trainer.step());
      boolean evaluated = store.history("val").stream().anyMatch(h -> h.step() == trainer.step());
      if (evalDue(trainer.step()) && !evaluated) {
        valSuccess = evaluate(greedy.get(), store, trainer.step());
      }
      if (first > o.steps()) {
        if (!o.json()) {
          out.println("run already at step " + trainer.step() + " (>= --steps " + o.steps() + "); nothing to train");
          out.flush();
        }
        ReportWriter.write(store.dir());
        return valSuccess;
      }
      if (first > 1 && !o.json()) {
        out.printf(Locale.ROOT, "resuming %s at step %d%n", store.dir(), first);
        out.flush();
      }
      List<S> order = task.trainOrder(o.seed());
      AtomicReference<String> judgeFailure = new AtomicReference<>();
      // a group the judge failed on is dropped by the gather (empty): its rule-based rewards must
      // not be mixed with the judge's scores of the other groups
      Function<TrajectoryGroup, Optional<TrajectoryGroup>> judge = o.ruler() == null ? Optional::of : g -> {
        try {
          Optional<TrajectoryGroup> scored = o.ruler().score(g);
          if (scored.isEmpty()) {
            judgeFailure.compareAndSet(null, "the judge failed (its reason is in the log above)");
          }
          return scored;
        } catch (RulerException e) {
          judgeFailure.set(e.getMessage());
          return Optional.empty();
        }
      };
      double judgeCostTotal = lastValue(store, "costs/judge_total");
      Map<Integer, Future<Gathered>> launched = new HashMap<>();
      for (int step = first; step <= o.steps(); step++) {
        TokenUsage judgeBefore = o.ruler() == null ? null : o.ruler().usage();
        // rollouts of steps step..step+K are under way (K = 0: only this one, on this thread)
        for (int s = step; s <= Math.min(step + ahead, o.steps()); s++) {
          if (!launched.containsKey(s)) {
            Callable<Gathered> g = gather(s, order, rollouts, format, judge, modelName);
            launched.put(s, background == null ? CompletableFuture.completedFuture(call(g)) : background.submit(g));
          }
        }
        Gathered gathered;
        try {
          gathered = launched.remove(step).get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        List<TrajectoryGroup> groups = gathered.groups();
        Instant stepStart = gathered.start();
        if (o.ruler() != null) {
          // a judge that fails on everything would otherwise "train" step after step on nothing
          if (groups.isEmpty() && judgeFailure.get() != null) {
            throw new IllegalStateException("step " + step + ": the judge failed on all " + o.groupsPerStep()
                + " groups, stopping (nothing trained at this step; a rerun resumes here). Last failure: "
                + judgeFailure.get());
          }
          judgeFailure.set(null);
        }
        double rolloutSeconds = gathered.seconds();
        TrainResult result = trainer.train(groups);

        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward_mean", mean(groups, t -> t.reward()));
        m.put("success_rate", mean(groups, t -> t.metrics().getOrDefault("success", 0.0)));
        putReported(m, groups);
        m.put("tokens_per_second", sum(groups, t -> t.metrics().getOrDefault("sampled_tokens", 0.0)) / rolloutSeconds);
        putTokens(m, groups);
        m.putAll(ToolErrorStats.metrics(groups));
        if (o.ruler() != null) {
          TokenUsage used = o.ruler().usage().minus(judgeBefore);
          m.put("judge/requests", (double) used.requests());
          m.put("judge/input_tokens", (double) used.inputTokens());
          m.put("judge/output_tokens", (double) used.outputTokens());
          if (o.ruler().prices().isPresent()) {
            TokenPrices prices = o.ruler().prices().get();
            judgeCostTotal += prices.cost(used);
            m.put("costs/judge", prices.cost(used));
            m.put("costs/judge_total", judgeCostTotal);
          }
        }
        m.put("rollout_seconds", rolloutSeconds);
        m.put("train_seconds", result.metric("seconds"));
        if (remote != null) {
          // the data of step s is on-policy when sampled from adapter s - 1
          m.put("staleness", (double) (step - 1 - gathered.policyStep()));
          m.putAll(rollouts.metrics());
        }
        m.put("seconds", seconds());
        HistoryEntry line = new HistoryEntry(step, "train", m, result.skipped() ? result.note() : null,
            Instant.now().toString());
        store.appendHistory(line);
        if (telemetry.enabled()) {
          Map<String, Double> all = new LinkedHashMap<>(result.metrics());
          all.putAll(m);
          telemetry.trainStep(step, stepStart, all);
          telemetry.record(new HistoryEntry(step, "train", all, null, null));
        }
        printTrain(step, m, result);
        // after the step is committed: a fleet that cannot load the new adapter stops the run here
        rollouts.trained(step);
        if (evalDue(step)) {
          valSuccess = evaluate(greedy.get(), store, step);
        }
      }
      ReportWriter.write(store.dir());
      return valSuccess;
    } finally {
      if (background != null) {
        background.shutdownNow();
      }
    }
  }

  /** Step {@code step}'s rollouts, on the adapter current when this is called. */
  private Callable<Gathered> gather(int step, List<S> order, Rollouts rollouts, ChatFormat format,
      Function<TrajectoryGroup, Optional<TrajectoryGroup>> judge, String modelName) {
    List<S> batch = new ArrayList<>(o.groupsPerStep());
    for (int i = 0; i < o.groupsPerStep(); i++) {
      batch.add(order.get(((step - 1) * o.groupsPerStep() + i) % order.size()));
    }
    int policyStep = rollouts.step;
    AgentLoop sampler = AgentLoop.builder(traced(rollouts.source(), modelName), format).maxTurns(task.maxTurns())
        .maxTokens(o.maxTokens())
        .sampling(SamplingParams.builder().temperature(o.temperature()).maxNewTokens(task.maxNewTokens()).build())
        .build();
    return () -> {
      long r0 = System.nanoTime();
      Instant start = Instant.now();
      // seeded by step and place, so that a run (and a resumed run) samples the same rollouts
      // whatever order the concurrent rollouts reach the engine in
      List<TrajectoryGroup> groups = Gather.builder(batch, (S s, long seed) ->
              traced("train", step, batch.indexOf(s), () -> task.rollout(sampler.withSeed(seed), s)))
          .seed(gatherSeed(o.seed(), step)).groupSize(o.groupSize()).concurrency(o.groupSize() * o.groupsPerStep())
          .maxExceptionFraction(0.25).afterEach(judge).progress(null).taskName(task.name()).build().run();
      if (remote != null) {
        groups = groups.stream().map(g -> g.map(t -> t.withMetadata("policy_step", policyStep))).toList();
      }
      return new Gathered(groups, policyStep, (System.nanoTime() - r0) / 1e9, start);
    };
  }

  private static <T> T call(Callable<T> c) throws InterruptedException {
    try {
      return c.call();
    } catch (InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The seed of step {@code step}'s gather. Its rollouts get the outputs of a SplittableRandom
   * seeded with it, {@code mix64(seed + k * gamma)}; with {@code R + step} for a random R those
   * never repeat across steps (a seed built as {@code seed ^ step * gamma} made step s + 2 reuse
   * step s's seeds, two rollouts along).
   */
  public static long gatherSeed(long runSeed, int step) {
    return new SplittableRandom(runSeed).nextLong() + step;
  }

  private boolean evalDue(int step) {
    return step == 0 || step == o.steps() || (o.evalEvery() > 0 && step % o.evalEvery() == 0);
  }

  /** The success rate of the latest held-out evaluation at or before {@code step}, NaN if none. */
  private static double lastValSuccess(RunStore store, int step) {
    double v = Double.NaN;
    int at = -1;
    for (HistoryEntry h : store.history("val")) {
      if (h.step() <= step && h.step() >= at && !Double.isNaN(h.metric("success_rate"))) {
        v = h.metric("success_rate");
        at = h.step();
      }
    }
    return v;
  }

  /** Plays every held-out scenario once, greedily; logs and prints the success rate. */
  private double evaluate(AgentLoop greedy, RunStore store, int step) {
    List<TrajectoryGroup> groups = Gather.builder(task.val(), (S s) -> traced("val", step, 0, () -> task.rollout(greedy, s)))
        .groupSize(1).concurrency(Math.min(64, task.val().size())).maxExceptionFraction(0.25)
        .progress(null).taskName(task.name() + " val").build().run();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("reward_mean", mean(groups, Trajectory::reward));
    m.put("success_rate", mean(groups, t -> t.metrics().getOrDefault("success", 0.0)));
    putReported(m, groups);
    putTokens(m, groups);
    m.putAll(ToolErrorStats.metrics(groups));
    m.put("seconds", seconds());
    store.log(groups, "val", m, step);
    telemetry.record(new HistoryEntry(step, "val", m, null, null));
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
      if (m.containsKey("costs/judge_total")) {
        line.put("costs/judge_total", m.get("costs/judge_total"));
      }
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

  /** A rollout on this thread, in a trace of its own when telemetry is on. */
  private Trajectory traced(String split, int step, int group, Rollout rollout) throws InterruptedException {
    if (!telemetry.enabled()) {
      return rollout.run();
    }
    try (RolloutSpan span = telemetry.startRollout(task.name(), split, step, group)) {
      try {
        Trajectory t = rollout.run();
        span.end(t);
        return t;
      } catch (RuntimeException | InterruptedException e) {
        span.fail(e);
        throw e;
      }
    }
  }

  /** One rollout of the task. */
  private interface Rollout {
    Trajectory run() throws InterruptedException;
  }

  /** The engine, with a {@code chat <model>} span per call when telemetry is on. */
  private CompletionSource traced(CompletionSource engine, String model) {
    if (!telemetry.enabled()) {
      return engine;
    }
    return (ids, params) -> {
      ModelCallSpan span = telemetry.startModelCall(model, ids.length, params.temperature(), params.maxNewTokens());
      return engine.submit(ids, params).whenComplete((c, e) -> {
        if (e != null) {
          span.fail(e);
        } else {
          span.end(c.tokens().length, c.finishReason().name().toLowerCase(Locale.ROOT));
        }
      });
    };
  }

  private static void putTokens(Map<String, Double> m, List<TrajectoryGroup> groups) {
    m.put("rollout/prompt_tokens", sum(groups, t -> t.metrics().getOrDefault("prompt_tokens", 0.0)));
    m.put("rollout/sampled_tokens", sum(groups, t -> t.metrics().getOrDefault("sampled_tokens", 0.0)));
  }

  /** The metric's value on the last train line that has it (a resumed run carries running totals on), else 0. */
  private static double lastValue(RunStore store, String metric) {
    double v = 0;
    for (HistoryEntry h : store.history("train")) {
      if (!Double.isNaN(h.metric(metric))) {
        v = h.metric(metric);
      }
    }
    return v;
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
