package dev.art4j.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.cli.InferenceDtypeConverter;
import dev.art4j.examples.math.MathProblem;
import dev.art4j.examples.math.MathProblems;
import dev.art4j.examples.math.MathReward;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.rl.MathRl;
import dev.art4j.examples.starter.Starter;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import dev.art4j.examples.rl.RemoteRollouts;
import dev.art4j.examples.rl.RlLoop;
import dev.art4j.examples.rl.Rollouts;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code art4j bench loop}: the math example's RL loop ({@code art4j train math} on its embedded
 * starter, same defaults) for {@code --steps} steps, with the wall time of each phase measured
 * apart: {@code rollout_s} (Gather of the agent over the engine and the math MCP server),
 * {@code reward_s} (the rule-based reward), {@code training_s} (the GRPO step, including its
 * trajectory log), {@code checkpoint_s} (adapter, optimizer and state written atomically) and
 * {@code refresh_s} (the engine switched to the new adapter). {@code rollout_share} =
 * rollout_s / wall_s: the loop is rollout-bound when it is near 1.
 */
@Command(name = "loop", mixinStandardHelpOptions = true,
    description = "Time split of the math example's RL loop (rollout / reward / training / checkpointing), as JSON.")
public final class BenchLoopCommand implements Callable<Integer> {

  static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin JsonOutput output = new JsonOutput();

  @Option(names = "--inference-dtype", defaultValue = "auto", paramLabel = "auto|bf16|fp32",
      converter = InferenceDtypeConverter.class, description = InferenceDtypeConverter.HELP)
  InferenceDtype inferenceDtype;

  @Option(names = "--steps", defaultValue = "20", description = "RL steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--groups", defaultValue = "16", description = "Scenarios per step (default ${DEFAULT-VALUE}).")
  int groups;

  @Option(names = "--group-size", defaultValue = "8", description = "Rollouts per scenario (default ${DEFAULT-VALUE}).")
  int groupSize;

  @Option(names = "--seed", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--lr", defaultValue = "1e-3", description = "Learning rate (default ${DEFAULT-VALUE}, as train math).")
  double learningRate;

  @Option(names = "--temperature", defaultValue = "1.0",
      description = "Sampling temperature (default ${DEFAULT-VALUE}, as train math).")
  double temperature;

  @Option(names = "--rollout-servers", split = ",", paramLabel = "URL",
      description = "Run the loop a second time with its rollouts on these servers (art4j serve or vLLM serving the "
          + "math starter, each step's adapter hot-loaded), and report rollout tokens/s through HTTP against in-process.")
  List<URI> rolloutServers;

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    if (steps < 1 || groups < 1 || groupSize < 2) {
      throw new CommandLine.ParameterException(cmd, "need --steps >= 1, --groups >= 1, --group-size >= 2");
    }
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      // as `art4j train` does for the tiny starter: its ops are too small to split
      System.setProperty("ai.djl.pytorch.num_threads", "1");
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    long t0 = System.nanoTime();
    Path modelDir = Starter.ensure(MathStarter.spec(0));
    double setup = secondsSince(t0);
    MathProblems.Split split = MathProblems.split(seed, 2000, 1);
    List<MathProblem> order = MathRl.balancedOrder(split.train(), seed); // as train math: operation-balanced steps

    ObjectNode out = JSON.createObjectNode();
    out.put("model", "math starter " + modelDir.getFileName());
    out.put("steps", steps);
    out.put("rollouts_per_step", groups * groupSize);
    out.put("learning_rate", learningRate);
    out.put("temperature", temperature);
    out.put("setup_s", round(setup));
    Phases local = loop(cmd, modelDir, order, null);
    local.putInto(out);
    if (rolloutServers != null && !rolloutServers.isEmpty()) {
      // same seeds, steps and concurrency; only where the tokens are sampled differs
      Phases remote = loop(cmd, modelDir, order, new RemoteRollouts(rolloutServers, null, 0, false));
      ObjectNode r = out.putObject("remote");
      r.put("servers", rolloutServers.size());
      remote.putInto(r);
      out.put("remote_rollout_tok_s_ratio", round(remote.rolloutTokS() / local.rolloutTokS()));
      out.put("remote_overhead", round(1 - remote.rolloutTokS() / local.rolloutTokS()));
    }
    out.put("peak_rss_mb", round(Rss.peakMb()));
    output.print(cmd, out);
    cmd.getOut().flush();
    return 0;
  }

  /** Wall time of each phase of one run of the loop, in seconds. */
  record Phases(int steps, double wall, double rollout, double reward, double training, double checkpoint, double refresh,
      double sampledTokens, double firstReward, double lastReward) {

    double rolloutTokS() {
      return sampledTokens / rollout;
    }

    void putInto(ObjectNode o) {
      o.put("wall_s", round(wall));
      o.put("rollout_s", round(rollout));
      o.put("reward_s", round(reward));
      o.put("training_s", round(training));
      o.put("checkpoint_s", round(checkpoint));
      o.put("refresh_s", round(refresh));
      o.put("other_s", round(wall - rollout - reward - training - checkpoint - refresh));
      o.put("rollout_share", round(rollout / wall));
      o.put("step_s", round(wall / steps));
      o.put("sampled_tokens", sampledTokens);
      o.put("rollout_tok_s", round(rolloutTokS()));
      o.put("reward_mean_first_step", round(firstReward));
      o.put("reward_mean_last_step", round(lastReward));
    }
  }

  /**
   * The loop on a fresh adapter (same seed every time): rollouts in-process when {@code remote}
   * is null, else on the servers, which load each step's checkpoint ({@code refresh_s}).
   */
  Phases loop(CommandLine cmd, Path modelDir, List<MathProblem> order, RemoteRollouts remote) throws Exception {
    double rollout = 0;
    double reward = 0;
    double training = 0;
    double checkpoint = 0;
    double refresh = 0;
    double sampledTokens = 0;
    double firstReward = Double.NaN;
    double lastReward = Double.NaN;
    double wall;
    String label = remote == null ? "in-process" : "servers";
    Path runDir = Files.createTempDirectory("art4j-bench-loop");
    RunStore store = RunStore.open(runDir);
    try (McpToolset tools = McpToolset.builder().stdio("math", MathRl.bundledMathServer()).allow(MathStarter.TOOLS).build();
         Policy policy = Policy.load(modelDir);
         GrpoTrainer trainer = GrpoTrainer.builder(policy)
             .config(TrainConfig.builder().learningRate(learningRate).maxGradNorm(1.0).seed(seed).build())
             .runStore(store).checkpointEvery(0)
             .lora(new LoraConfig(8, 16, 0.0), seed).build();
         Rollouts rollouts = remote == null ? Rollouts.local(policy, null, inferenceDtype, seed)
             : Rollouts.remote(remote, store, runDir.getFileName().toString(), 0)) {
      ChatFormat format = ChatFormat.load(modelDir);
      long wallStart = System.nanoTime();
      for (int step = 1; step <= steps; step++) {
        AgentLoop agent = AgentLoop.builder(rollouts.source(), format).maxTurns(3).maxTokens(1024)
            .sampling(SamplingParams.builder().temperature(temperature).maxNewTokens(48).build()).build();
        List<MathProblem> batch = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
          batch.add(order.get(((step - 1) * groups + i) % order.size()));
        }
        long r0 = System.nanoTime();
        // seeded as train math seeds its steps, so that runs with the same --seed sample the same
        // rollouts whatever order the concurrent rollouts reach the engine in
        List<TrajectoryGroup> raw = Gather.builder(batch,
                (MathProblem p, long s) -> agent.withSeed(s).run(List.of(Message.user(p.question())), tools))
            .seed(RlLoop.gatherSeed(seed, step)).groupSize(groupSize).concurrency(groupSize * groups)
            .maxExceptionFraction(0.25).progress(null).taskName("math").build().run();
        rollout += secondsSince(r0);

        long s0 = System.nanoTime();
        List<TrajectoryGroup> scored = new ArrayList<>();
        for (int g = 0; g < raw.size(); g++) {
          MathProblem p = batch.get(g);
          scored.add(MathReward.of(p).apply(raw.get(g)));
        }
        reward += secondsSince(s0);
        double mean = scored.stream().flatMap(g -> g.trajectories().stream()).mapToDouble(Trajectory::reward).average().orElse(Double.NaN);
        sampledTokens += scored.stream().flatMap(g -> g.trajectories().stream())
            .mapToDouble(t -> t.metrics().getOrDefault("sampled_tokens", 0.0)).sum();
        if (step == 1) {
          firstReward = mean;
        }
        lastReward = mean;

        long tr0 = System.nanoTime();
        TrainResult result = trainer.train(scored);
        training += secondsSince(tr0);
        long c0 = System.nanoTime();
        trainer.checkpoint();
        checkpoint += secondsSince(c0);
        long f0 = System.nanoTime();
        rollouts.trained(trainer.step());
        refresh += secondsSince(f0);
        cmd.getErr().printf("bench loop (%s): step %d reward %.3f %s%n", label, step, mean, result.skipped() ? result.note() : "");
      }
      wall = secondsSince(wallStart);
    } finally {
      deleteTree(runDir);
    }
    return new Phases(steps, wall, rollout, reward, training, checkpoint, refresh, sampledTokens,
        firstReward, lastReward);
  }

  static double secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
