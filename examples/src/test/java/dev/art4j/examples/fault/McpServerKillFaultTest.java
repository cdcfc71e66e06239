package dev.art4j.examples.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.template.ChatTemplate;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The bundled math MCP server (a real child JVM over stdio) is SIGKILLed while every rollout of
 * a step waits on a tool call. The rollouts still finish: the killed call comes back to the
 * model as an error tool message, the trajectories record it, GRPO trains on the step, and the
 * next step's calls run on the restarted server.
 */
class McpServerKillFaultTest {

  static final int GROUP = 4;

  static Path tinyChat() {
    return Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
  }

  /**
   * Plays the model: the first turn calls {@code callJson}, any later turn (the prompt already
   * holds a tool call) answers in plain text. Log-probs are a fixed -1 per token.
   */
  static final class ScriptedModel implements CompletionSource {
    final ChatFormat format;
    volatile String callJson;
    final AtomicInteger calls = new AtomicInteger();

    ScriptedModel(ChatFormat format) {
      this.format = format;
    }

    @Override
    public CompletableFuture<Completion> submit(int[] prompt, SamplingParams params) {
      boolean afterTool = format.tokenizer().decode(prompt).contains("<tool_call>");
      String text = afterTool ? "The tool answered; done." : "<tool_call>\n" + callJson + "\n</tool_call>";
      int[] body = format.tokenizer().encode(text);
      int[] ids = Arrays.copyOf(body, body.length + 1);
      ids[body.length] = format.endOfTurnId();
      float[] lp = new float[ids.length];
      Arrays.fill(lp, -1f);
      if (!afterTool) {
        calls.incrementAndGet();
      }
      return CompletableFuture.completedFuture(new Completion(ids, lp, FinishReason.STOP, prompt.length, 0, 0, 0));
    }
  }

  /** The bundled math servers this JVM runs (child processes). */
  static java.util.Set<Long> mathServerPids() {
    return ProcessHandle.current().children()
        .filter(p -> p.isAlive() && cmdline(p).contains(MathServer.class.getName()))
        .map(ProcessHandle::pid).collect(java.util.stream.Collectors.toSet());
  }

  /** The one math server started since {@code before} was taken (other tests' servers are ignored). */
  static long ourServer(java.util.Set<Long> before) {
    java.util.Set<Long> ours = new java.util.HashSet<>(mathServerPids());
    ours.removeAll(before);
    assertEquals(1, ours.size(), "math server processes of this test: " + ours);
    return ours.iterator().next();
  }

  /** ProcessHandle.Info drops long command lines (the class path), /proc has them whole. */
  static String cmdline(ProcessHandle p) {
    try {
      return java.nio.file.Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
    } catch (java.io.IOException e) {
      return p.info().commandLine().orElse("");
    }
  }

  @Test
  void serverKilledMidRolloutIsRecordedAsAToolErrorAndTheNextStepSucceeds() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> server = List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
        MathServer.class.getName(), "--test-tools");
    java.util.Set<Long> others = mathServerPids();
    try (Policy policy = Policy.load(tinyChat());
         McpToolset tools = McpToolset.builder().stdio("math", server).allow("sleep", "multiply")
             .callTimeout(Duration.ofSeconds(90)).build()) {
      ChatFormat format = ChatFormat.of(ChatTemplate.fromTokenizerConfig(tinyChat().resolve("tokenizer_config.json")),
          policy.tokenizer().orElseThrow());
      ScriptedModel model = new ScriptedModel(format);
      AgentLoop agent = AgentLoop.builder(model, format).maxTurns(3)
          .sampling(SamplingParams.builder().temperature(1).maxNewTokens(64).build()).build();
      AtomicInteger rewardSeq = new AtomicInteger();

      // step 1: every rollout is inside `sleep` when the server dies (a long sleep, which the kill cuts
      // short, so that a slow machine cannot see it end first)
      model.callJson = "{\"name\": \"sleep\", \"arguments\": {\"seconds\": 60}}";
      CountDownLatch entered = new CountDownLatch(GROUP);
      Toolset counted = new Toolset() {
        @Override
        public List<ToolSpec> tools() {
          return tools.tools();
        }

        @Override
        public ToolResult call(String name, String argumentsJson) {
          entered.countDown();
          return tools.call(name, argumentsJson);
        }
      };
      long pid = ourServer(others);
      int restartsBefore = tools.restarts();
      CompletableFuture<List<TrajectoryGroup>> step1 = CompletableFuture.supplyAsync(() ->
          Gather.builder(List.of("nap"), (String task) -> agent.run(task, counted).withReward(rewardSeq.getAndIncrement() % 2))
              .groupSize(GROUP).concurrency(GROUP).maxExceptions(0).progress(null).build().run());
      assertTrue(entered.await(60, TimeUnit.SECONDS), "rollouts never reached the toolset");
      Thread.sleep(1000); // the calls are now in flight on the server
      ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL
      List<TrajectoryGroup> groups1 = step1.get(60, TimeUnit.SECONDS);

      assertEquals(1, groups1.size());
      TrajectoryGroup g1 = groups1.get(0);
      assertTrue(g1.exceptions().isEmpty(), "no rollout may fail: " + g1.exceptions());
      assertEquals(GROUP, g1.trajectories().size());
      for (Trajectory t : g1.trajectories()) {
        assertEquals("answer", t.metadata().get("finish_reason"), "the rollout goes on after the dead call");
        assertEquals(1.0, t.metrics().get("tool_errors"));
        Message toolMessage = t.messages().stream().filter(m -> m.role() == Role.TOOL).findFirst().orElseThrow();
        assertTrue(toolMessage.content().contains("The MCP server `math` stopped")
                && toolMessage.content().contains("while running tool `sleep`"), toolMessage.content());
        assertTrue(t.logs().stream().anyMatch(l -> l.contains("sleep") && l.contains("stopped")), t.logs().toString());
        assertEquals(Role.ASSISTANT, t.messages().get(t.messages().size() - 1).role());
      }
      assertEquals(restartsBefore + 1, tools.restarts(), "one restart for the one death");
      assertNotEquals(pid, ourServer(others));

      // the step completes: GRPO trains on the trajectories that carry the error
      try (GrpoTrainer trainer = GrpoTrainer.builder(policy).config(TrainConfig.builder().learningRate(1e-3).build())
          .lora(new LoraConfig(4, 8, 0), 1).build()) {
        TrainResult r = trainer.train(groups1);
        assertFalse(r.skipped(), r.note());
        assertEquals(1, trainer.step());
        assertTrue(Double.isFinite(r.loss()));
      }

      // step 2: the restarted server answers every call
      model.callJson = "{\"name\": \"multiply\", \"arguments\": {\"a\": 6, \"b\": 7}}";
      List<TrajectoryGroup> groups2 = Gather.builder(List.of("times"), (String task) -> agent.run(task, tools))
          .groupSize(GROUP).concurrency(GROUP).maxExceptions(0).progress(null).build().run();
      for (Trajectory t : groups2.get(0).trajectories()) {
        assertEquals(0.0, t.metrics().get("tool_errors"), t.logs().toString());
        Message toolMessage = t.messages().stream().filter(m -> m.role() == Role.TOOL).findFirst().orElseThrow();
        assertEquals("42", toolMessage.content());
      }
      assertEquals(restartsBefore + 1, tools.restarts(), "no further restart");
      assertEquals(2 * GROUP, model.calls.get());
    }
  }
}
