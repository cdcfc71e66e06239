package dev.art4j.examples.rl;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.examples.math.MathProblem;
import dev.art4j.examples.math.MathProblems;
import dev.art4j.examples.math.MathReward;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.math.Operation;
import dev.art4j.examples.starter.StarterSpec;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.rollout.agent.AgentLoop;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The math quickstart as an {@link RlTask}: generated arithmetic questions, the bundled math MCP
 * server over stdio (a child JVM) with an allow-list of the four arithmetic tools, the rule-based
 * reward of {@link MathReward}.
 */
public final class MathRl implements RlTask<MathProblem> {

  private final MathProblems.Split split;
  private final McpToolset tools;
  private volatile Toolset used;

  public MathRl(long seed, int trainSize, int valSize) {
    this.split = MathProblems.split(seed, trainSize, valSize);
    this.tools = McpToolset.builder()
        .stdio("math", bundledMathServer())
        .allow(MathStarter.TOOLS)
        .build();
    this.used = tools;
  }

  @Override
  public void decorateTools(UnaryOperator<Toolset> decorator) {
    used = decorator.apply(tools);
  }

  /** The command that starts the bundled math MCP server with this JVM's class path. */
  public static List<String> bundledMathServer() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "dev.art4j.mcp.math.MathServer");
  }

  @Override
  public String name() {
    return "math";
  }

  @Override
  public StarterSpec starter(long seed) {
    return MathStarter.spec(seed);
  }

  @Override
  public List<MathProblem> train() {
    return split.train();
  }

  /**
   * Shuffled, then interleaved by operation ({@code + - * / + - * / ...}), so that a step of
   * {@code 4k} groups asks every operation equally often. Why: GRPO's update from a group moves the
   * tool-name logits for every question a little (their features are mostly shared); with
   * unbalanced steps that shared drift swamps the per-operation signal and the policy collapses
   * onto one tool. Balanced steps cancel the drift (measured, examples/README.md).
   */
  @Override
  public List<MathProblem> trainOrder(long seed) {
    return balancedOrder(split.train(), seed);
  }

  /** {@code problems} shuffled with {@code seed}, then interleaved by operation (see {@link #trainOrder}). */
  public static List<MathProblem> balancedOrder(List<MathProblem> problems, long seed) {
    return BalancedOrder.of(problems, seed, List.of(Operation.values()), MathProblem::operation);
  }

  @Override
  public List<MathProblem> val() {
    return split.val();
  }

  @Override
  public Trajectory rollout(AgentLoop agent, MathProblem p) throws InterruptedException {
    Trajectory t = agent.run(List.of(Message.user(p.question())), used);
    t = MathReward.of(p).apply(t);
    for (Map.Entry<String, Object> e : p.metadata().entrySet()) {
      t = t.withMetadata(e.getKey(), e.getValue());
    }
    return t;
  }

  @Override
  public int maxTurns() {
    return 3;
  }

  @Override
  public int maxNewTokens() {
    return 48;
  }

  @Override
  public void close() {
    tools.close();
  }
}
