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
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
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
    Path runDir = Files.createTempDirectory("art4j-bench-loop");
    MathProblems.Split split = MathProblems.split(seed, 2000, 1);
    List<MathProblem> order = MathRl.balancedOrder(split.train(), seed); // as train math: operation-balanced steps

    double rollout = 0;
    double reward = 0;
    double training = 0;
    double checkpoint = 0;
    double refresh = 0;
    double sampledTokens = 0;
    double firstReward = Double.NaN;
    double lastReward = Double.NaN;
    long wallStart;
    try (McpToolset tools = McpToolset.builder().stdio("math", MathRl.bundledMathServer()).allow(MathStarter.TOOLS).build();
         Policy policy = Policy.load(modelDir);
         GrpoTrainer trainer = GrpoTrainer.builder(policy)
             .config(TrainConfig.builder().learningRate(learningRate).maxGradNorm(1.0).seed(seed).build())
             .runStore(RunStore.open(runDir)).checkpointEvery(0)
             .lora(new LoraConfig(8, 16, 0.0), seed).build();
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(seed).inferenceDtype(inferenceDtype).build()) {
      engine.refreshAdapter();
      ChatFormat format = ChatFormat.load(modelDir);
      AgentLoop agent = AgentLoop.builder(engine, format).maxTurns(3).maxTokens(1024)
          .sampling(SamplingParams.builder().temperature(temperature).maxNewTokens(48).build()).build();
      wallStart = System.nanoTime();
      for (int step = 1; step <= steps; step++) {
        List<MathProblem> batch = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
          batch.add(order.get(((step - 1) * groups + i) % order.size()));
        }
        long r0 = System.nanoTime();
        List<TrajectoryGroup> raw = Gather.builder(batch, (MathProblem p) -> agent.run(List.of(Message.user(p.question())), tools))
            .groupSize(groupSize).concurrency(groupSize * groups).maxExceptionFraction(0.25).progress(null)
            .taskName("math").build().run();
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
        engine.refreshAdapter();
        refresh += secondsSince(f0);
        cmd.getErr().printf("bench loop: step %d reward %.3f %s%n", step, mean, result.skipped() ? result.note() : "");
      }
    } finally {
      deleteTree(runDir);
    }
    double wall = secondsSince(wallStart);
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    out.put("model", "math starter " + modelDir.getFileName());
    out.put("steps", steps);
    out.put("rollouts_per_step", groups * groupSize);
    out.put("learning_rate", learningRate);
    out.put("temperature", temperature);
    out.put("setup_s", round(setup));
    out.put("wall_s", round(wall));
    out.put("rollout_s", round(rollout));
    out.put("reward_s", round(reward));
    out.put("training_s", round(training));
    out.put("checkpoint_s", round(checkpoint));
    out.put("refresh_s", round(refresh));
    out.put("other_s", round(wall - rollout - reward - training - checkpoint - refresh));
    out.put("rollout_share", round(rollout / wall));
    out.put("step_s", round(wall / steps));
    out.put("rollout_tok_s", round(sampledTokens / rollout));
    out.put("reward_mean_first_step", round(firstReward));
    out.put("reward_mean_last_step", round(lastReward));
    out.put("peak_rss_mb", round(Rss.peakMb()));
    output.print(cmd, out);
    cmd.getOut().flush();
    return 0;
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
