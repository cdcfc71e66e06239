package dev.art4j.rollout.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.ToolErrors;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.gather.Gather;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Multi-turn rollouts on the tiny-chat fixture (byte-level tokenizer, ChatML template) against an
 * in-process toolset. Tool-calling turns come from a scripted source (chosen text, log-probs from
 * a forward pass of the real model); the others are sampled by the real engine.
 */
class AgentLoopTest {

  static Policy policy;
  static ChatFormat format;
  static InferenceEngine engine;

  static TestKit.TinyChat tiny;

  @BeforeAll
  static void load() throws Exception {
    tiny = TestKit.TinyChat.load(3);
    policy = tiny.policy();
    format = tiny.format();
    engine = tiny.engine();
  }

  @AfterAll
  static void close() {
    if (tiny != null) {
      tiny.close();
    }
  }

  TestKit.ScriptedSource scripted(String... script) {
    return new TestKit.ScriptedSource(format, policy.model(), null, engine, Arrays.asList(script));
  }

  static final SamplingParams SAMPLING = SamplingParams.builder().temperature(1).maxNewTokens(16).seed(7).build();

  @Test
  void multiTurnMultiToolTrainingTokensAreTheSampledTokens() throws Exception {
    TestKit.ScriptedSource source = scripted(
        "Both.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 4, \"b\": 5}}\n</tool_call>",
        "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 5,}}</tool_call>"
            + "<tool_call>{\"name\": \"multiplyy\", \"arguments\": {\"a\": 5, \"b\": 20}}</tool_call>"
            + "<tool_call>{\"name\": \"explode\", \"arguments\": {}}</tool_call>",
        null); // the answer: sampled for real
    AgentLoop agent = AgentLoop.builder(source, format).systemPrompt("Use the tools.").sampling(SAMPLING).maxTurns(5).build();
    Toolset tools = TestKit.mathToolset();
    Trajectory t = agent.run("What is (2+3)*(4*5)?", tools);

    assertEquals(3, t.turns().size());
    assertEquals(3, source.served.size());
    assertEquals("answer", t.metadata().get("finish_reason"));
    assertEquals(5.0, t.metrics().get("tool_calls"));
    assertEquals(3.0, t.metrics().get("tool_errors"));

    List<Message> m = t.messages();
    assertEquals(List.of(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL, Role.ASSISTANT,
        Role.TOOL, Role.TOOL, Role.TOOL, Role.ASSISTANT), m.stream().map(Message::role).toList());
    assertEquals("Both.", m.get(2).content());
    assertEquals("5", m.get(3).content());
    assertEquals("call_0_0", m.get(3).toolCallId());
    assertEquals("20", m.get(4).content());
    assertTrue(m.get(6).content().contains("not valid JSON"), m.get(6).content());
    assertTrue(m.get(7).content().contains("unknown tool 'multiplyy'. Did you mean 'multiply'?"), m.get(7).content());
    assertEquals("Error: tool 'explode' failed: IllegalStateException: boom", m.get(8).content());

    // the model saw exactly the recorded prompts
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(source.prompts.get(i), t.turns().get(i).promptIds(), "prompt of turn " + i);
    }
    assertArrayEquals(format.encode(format.render(m.subList(0, 2), tools.tools(), true)), t.turns().get(0).promptIds());

    // training tokens = sampled tokens: same ids at the same positions, same log-probs, mask only there
    TokenSequence seq = t.tokens();
    int sampledTotal = 0;
    for (int i = 0; i < 3; i++) {
      Turn turn = t.turns().get(i);
      Completion c = source.served.get(i);
      int at = turn.promptIds().length;
      for (int j = 0; j < c.tokens().length; j++) {
        assertEquals(c.tokens()[j], seq.ids()[at + j]);
        assertTrue(seq.sampled()[at + j]);
        assertEquals(c.logprobs()[j], seq.logprobs()[at + j]);
      }
      sampledTotal += c.tokens().length;
    }
    assertEquals(sampledTotal, seq.sampledCount());
    assertEquals(sampledTotal, t.metrics().get("sampled_tokens"));
    for (int i = 0; i < seq.length(); i++) {
      assertEquals(!seq.sampled()[i], Float.isNaN(seq.logprobs()[i]), "position " + i);
    }

    // between two replies only the template's text for the new messages was added
    Turn t0 = t.turns().get(0);
    int end0 = t0.promptIds().length + t0.sampledIds().length;
    String between = format.tokenizer().decode(Arrays.copyOfRange(t.turns().get(1).promptIds(), end0, t.turns().get(1).promptIds().length));
    assertEquals("\n<|im_start|>tool\n5<|im_end|>\n<|im_start|>tool\n20<|im_end|>\n<|im_start|>assistant\n", between);

    // the real turn's log-probs are the model's for those ids at those positions
    Turn last = t.turns().get(2);
    float[] ref = TestKit.logprobs(policy.model(), null, last.promptIds(), last.sampledIds(), 1.0);
    for (int j = 0; j < ref.length; j++) {
      assertEquals(ref[j], last.logprobs()[j], 1e-3, "sampled token " + j);
    }
  }

  @Test
  void finishToolEndsTheRolloutWithItsArguments() throws Exception {
    ToolSpec complete = new ToolSpec("complete_task", "Give the final answer.",
        TestKit.JSON.readTree("{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}"));
    TestKit.ScriptedSource source = scripted(
        "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}</tool_call>",
        "<tool_call>{\"name\": \"complete_task\", \"arguments\": {\"answer\": 5}}</tool_call>",
        "<tool_call>{\"name\": \"complete_task\", \"arguments\": {\"answer\": \"5\"}}</tool_call>",
        "never reached");
    AgentLoop agent = AgentLoop.builder(source, format).sampling(SAMPLING).finishTool(complete).build();
    Trajectory t = agent.run("2+3?", TestKit.mathToolset());
    assertEquals("finish_tool", t.metadata().get("finish_reason"));
    assertEquals("{\"answer\":\"5\"}", t.metadata().get("finish_arguments"));
    assertEquals(3, t.turns().size(), "a finish call breaking the schema is answered, not accepted");
    assertTrue(t.messages().get(4).content().contains("field `answer` must be a string, got number 5"), t.messages().get(4).content());
    assertEquals(List.of(4), ToolErrors.indices(t), "the rejected call's tool message is marked failed for rewards");
    assertTrue(t.tools().stream().anyMatch(s -> s.name().equals("complete_task")));
  }

  @Test
  void maxTurnsAndTokenLimitStopTheRollout() throws Exception {
    String call = "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 1}}</tool_call>";
    Trajectory turns = AgentLoop.builder(scripted(call, call, call), format).sampling(SAMPLING).maxTurns(2).build()
        .run("1+1?", TestKit.mathToolset());
    assertEquals("max_turns", turns.metadata().get("finish_reason"));
    assertEquals(2, turns.turns().size());

    int first = Transcript.start(format, List.of(Message.user("1+1?")), TestKit.mathToolset().tools()).length();
    int callTokens = format.encode(call).length + 1;
    Trajectory limited = AgentLoop.builder(scripted(call, call), format).sampling(SAMPLING).maxTokens(first + callTokens + 4).build()
        .run("1+1?", TestKit.mathToolset());
    assertEquals("token_limit", limited.metadata().get("finish_reason"));
    assertEquals(1, limited.turns().size());

    // a real turn gets only the room left: it cannot pass maxTokens
    Trajectory real = AgentLoop.builder(scripted((String) null), format)
        .sampling(SamplingParams.builder().maxNewTokens(64).seed(1).build()).maxTokens(first + 3).build()
        .run("1+1?", TestKit.mathToolset());
    assertTrue(real.tokens().length() <= first + 3, "length " + real.tokens().length());
  }

  @Test
  void gatherRunsGroupsOfRealRolloutsOnTheEngine() {
    AgentLoop agent = AgentLoop.builder(engine, format).systemPrompt("Answer briefly.")
        .sampling(SamplingParams.builder().maxNewTokens(12).build()).build();
    List<TrajectoryGroup> groups = Gather.builder(List.of("2+2?", "3*3?"), (String task) -> agent.run(task, TestKit.mathToolset()))
        .groupSize(4).progress(null).build().run();
    assertEquals(2, groups.size());
    for (TrajectoryGroup g : groups) {
      assertEquals(4, g.size());
      for (Trajectory t : g.trajectories()) {
        Turn turn = t.turns().get(0);
        assertFalse(turn.sampledIds().length == 0);
        float[] ref = TestKit.logprobs(policy.model(), null, turn.promptIds(), turn.sampledIds(), 1.0);
        for (int j = 0; j < ref.length; j++) {
          assertEquals(ref[j], turn.logprobs()[j], 1e-3);
        }
      }
    }
    assertEquals("2+2?", groups.get(0).trajectories().get(0).messages().get(1).content());
  }

  /** Every rollout's sampled tokens, per group in member order. */
  static List<List<String>> sampled(AgentLoop agent, long seed, int concurrency) {
    List<TrajectoryGroup> groups = Gather.builder(List.of("2+2?", "3*3?"),
            (String task, long rolloutSeed) -> agent.withSeed(rolloutSeed).run(task, TestKit.mathToolset()))
        .seed(seed).groupSize(4).concurrency(concurrency).progress(null).build().run();
    return groups.stream().map(g -> g.trajectories().stream()
        .map(t -> t.turns().stream().map(turn -> Arrays.toString(turn.sampledIds())).toList().toString())
        .toList()).toList();
  }

  @Test
  void aSeededGatherOnASeededAgentIsReproducible() {
    AgentLoop agent = AgentLoop.builder(engine, format).systemPrompt("Answer briefly.")
        // hot: at temperature 1 the tiny model nearly always says the same thing
        .sampling(SamplingParams.builder().temperature(4).maxNewTokens(12).build()).build();
    List<List<String>> alone = sampled(agent, 11, 1);
    // the engine batches the concurrent requests in whatever order they arrive
    assertEquals(alone, sampled(agent, 11, 8));
    assertEquals(alone, sampled(agent, 11, 8));
    for (List<String> group : alone) {
      assertTrue(group.stream().distinct().count() > 1, "the members of a group sample differently: " + group);
    }
    assertFalse(alone.equals(sampled(agent, 12, 8)), "another seed samples other rollouts");
  }
}
