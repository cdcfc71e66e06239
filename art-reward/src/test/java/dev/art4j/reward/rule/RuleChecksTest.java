package dev.art4j.reward.rule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.ToolErrors;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RuleChecksTest {

  private static Trajectory answered(String finalAnswer) {
    return Trajectory.ofMessages(List.of(Message.user("What is 6 * 7?"), Message.assistant(finalAnswer)));
  }

  private static double score(RewardFunction f, Trajectory t) {
    return f.score(t).value();
  }

  @Test
  void exactMatchNormalisesWhiteSpaceButNotCaseUnlessAsked() {
    AnswerMatch exact = AnswerMatch.exact("Forty  two");
    assertEquals(1.0, score(exact, answered("  Forty two\n")));
    assertEquals(0.0, score(exact, answered("forty two")));
    assertEquals(1.0, score(exact.ignoringCase(), answered("forty TWO")));
    assertEquals(0.0, score(exact, answered("Forty two.")));
    assertEquals(Map.of("answer_exact", 1.0), exact.score(answered("Forty two")).metrics());
  }

  @Test
  void exactMatchReadsTheLastAssistantMessageWithoutThinking() {
    Trajectory t = Trajectory.ofMessages(List.of(
        Message.user("q"), Message.assistant("42"), Message.user("are you sure?"),
        Message.assistant("<think>maybe 42</think>\n43")));
    assertEquals(0.0, score(AnswerMatch.exact("42"), t));
    assertEquals(1.0, score(AnswerMatch.exact("43"), t));
    assertEquals(0.0, score(AnswerMatch.exact("42"), Trajectory.ofMessages(List.of(Message.user("42")))));
    // a thought that never closed leaves no answer
    assertEquals(0.0, score(AnswerMatch.exact("42"), answered("<think>the answer is 42")));
    // the template opened the thought in the prompt: only the closing tag was sampled
    assertEquals(1.0, score(AnswerMatch.exact("43"), answered("42? no...\n</think>\n\n43")));
  }

  /** An agent that ran out of turns on a tool call gave no answer, whatever text came with the call. */
  @Test
  void aTrajectoryThatStoppedOnAToolCallHasNoFinalAnswer() {
    Trajectory t = Trajectory.ofMessages(List.of(Message.user("What is 37 * 12?"),
        Message.assistant("444", List.of(new ToolCall("c", "multiply", "{\"a\": 37, \"b\": 12}")))));
    assertTrue(FinalAnswer.of(t).isEmpty());
    assertEquals(0.0, score(AnswerMatch.numeric(444, 1e-6), t));
  }

  @Test
  void extractionTakesTheLastMatchAndItsGroup() {
    AnswerMatch m = AnswerMatch.exact("42").extracting(Pattern.compile("<answer>(.*?)</answer>"));
    assertEquals(1.0, score(m, answered("<answer>41</answer> no wait <answer> 42 </answer>")));
    assertEquals(0.0, score(m, answered("<answer>42</answer> no wait <answer>41</answer>")));
    assertEquals(0.0, score(m, answered("42")));
  }

  @Test
  void numericMatchUsesTheLastNumberWithinTolerance() {
    AnswerMatch m = AnswerMatch.numeric(1234.5, 0.01);
    assertEquals(1.0, score(m, answered("6 * 7 = 42, so the total is 1,234.5")));
    assertEquals(1.0, score(m, answered("about 1234.504")));
    assertEquals(0.0, score(m, answered("1234.5 is wrong, it is 1234.6")));
    assertEquals(0.0, score(m, answered("no idea")));
    assertEquals(1.0, score(AnswerMatch.numeric(-3e-4, 1e-9), answered("x = -3e-4")));
    assertEquals(1.0, score(AnswerMatch.numeric(1000, 0).relativeTolerance(0.01), answered("1009")));
    assertEquals(0.0, score(AnswerMatch.numeric(1000, 0).relativeTolerance(0.01), answered("1011")));
  }

  @Test
  void expectedAnswerFromMetadataAndItsAbsenceIsAClearError() {
    AnswerMatch m = AnswerMatch.numeric(AnswerMatch.metadata("answer"), 1e-9);
    assertEquals(1.0, score(m, answered("It is 42.").withMetadata("answer", 42)));
    assertEquals(0.0, score(m, answered("It is 41.").withMetadata("answer", 42)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.score(answered("42")));
    assertTrue(e.getMessage().contains("'answer'"), e.getMessage());
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> m.score(answered("42").withMetadata("answer", "forty")));
    assertTrue(nan.getMessage().contains("forty"), nan.getMessage());
  }

  @Test
  void formatCheckFindOrWholeMatch() {
    Pattern p = Pattern.compile("<answer>\\d+</answer>");
    assertEquals(1.0, score(FormatCheck.find(p), answered("so <answer>42</answer>")));
    assertEquals(0.0, score(FormatCheck.matches(p), answered("so <answer>42</answer>")));
    assertEquals(1.0, score(FormatCheck.matches(p), answered("<answer>42</answer>")));
    assertEquals(0.0, score(FormatCheck.find(p), answered("<answer>forty</answer>")));
    assertEquals(Map.of("fmt", 1.0), FormatCheck.find(p).named("fmt").score(answered("<answer>1</answer>")).metrics());
  }

  @Test
  void jsonCheck() {
    assertEquals(1.0, score(JsonCheck.valid(), answered("[1, 2]")));
    assertEquals(1.0, score(JsonCheck.valid(), answered("```json\n{\"a\": 1}\n```")));
    assertEquals(0.0, score(JsonCheck.valid(), answered("{\"a\": 1} and more")));
    assertEquals(0.0, score(JsonCheck.valid(), answered("{\"a\": 1")));
    assertEquals(0.0, score(JsonCheck.valid(), answered("")));
    assertEquals(0.0, score(JsonCheck.object(), answered("[1]")));
    assertEquals(1.0, score(JsonCheck.object().withFields("a", "b"), answered("{\"a\":1,\"b\":null}")));
    assertEquals(0.0, score(JsonCheck.object().withFields("a", "b"), answered("{\"a\":1}")));
  }

  private static Trajectory withTools() {
    return Trajectory.ofMessages(List.of(
        Message.user("add 2 and 3, then divide by 0"),
        Message.assistant("", List.of(new ToolCall("c1", "add", "{\"a\":2,\"b\":3}"))),
        Message.tool("c1", "add", "5"),
        Message.assistant("", List.of(new ToolCall("c2", "divide", "{\"a\":5,\"b\":0}"),
            new ToolCall("c3", "add", "{\"a\":5,\"b\":0}"))),
        Message.tool("c2", "divide", "Error: division by zero"),
        Message.tool("c3", "add", "5"),
        Message.assistant("5")));
  }

  @Test
  void usedToolCountsCalls() {
    Reward r = ToolUse.used("add").score(withTools());
    assertEquals(1.0, r.value());
    assertEquals(2.0, r.metrics().get("calls_add"));
    assertEquals(0.0, score(ToolUse.used("multiply"), withTools()));
    assertEquals(0.0, score(ToolUse.used("add"), answered("5")));
  }

  @Test
  void noToolErrorsReadsTheMetadataConvention() throws Exception {
    Trajectory clean = withTools();
    assertEquals(1.0, score(ToolUse.noErrors(), clean));
    Trajectory failed = ToolErrors.mark(clean, 4);
    assertEquals(List.of(4), ToolErrors.indices(failed));
    Reward r = ToolUse.noErrors().score(failed);
    assertEquals(0.0, r.value());
    assertEquals(1.0, r.metrics().get("tool_errors"));
    // survives the JSON round trip of a run store
    ObjectMapper json = new ObjectMapper();
    Trajectory back = json.readValue(json.writeValueAsString(failed), Trajectory.class);
    assertEquals(0.0, score(ToolUse.noErrors(), back));
    // an index that does not point at a tool message is bad data, named clearly
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ToolUse.noErrors().score(clean.withMetadata(ToolErrors.KEY, List.of(3))));
    assertTrue(e.getMessage().contains("message 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ToolErrors.mark(clean, 0));
  }

  @Test
  void penaltiesRampLinearlyBetweenFreeAndMax() {
    Trajectory t = withTools(); // 3 assistant messages
    assertEquals(0.0, score(Penalty.turns(3, 5), t));
    assertEquals(-0.5, score(Penalty.turns(2, 4), t), 1e-12);
    assertEquals(-1.0, score(Penalty.turns(0, 2), t));
    assertEquals(3.0, Penalty.turns(0, 2).score(t).metrics().get("turns"));
    Trajectory chatty = answered("x".repeat(150));
    assertEquals(-0.5, score(Penalty.characters(100, 200), chatty), 1e-12);
    Trajectory tokens = chatty.withTurns(List.of(new Turn(new int[] {1, 2}, new int[] {3, 4, 5}, new float[3]),
        new Turn(new int[] {1, 2, 3, 4, 5, 6}, new int[] {7}, new float[1])));
    assertEquals(-0.25, score(Penalty.sampledTokens(3, 7), tokens), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> Penalty.sampledTokens(3, 7).score(chatty));
    assertThrows(IllegalArgumentException.class, () -> Penalty.turns(3, 3));
  }

  @Test
  void weightedSumCombinesAndAppliesToAGroup() {
    RewardFunction reward = RewardFunction.weighted()
        .add(1.0, AnswerMatch.numeric(AnswerMatch.metadata("answer"), 1e-9))
        .add(0.5, ToolUse.used("add"))
        .add(0.25, ToolUse.noErrors())
        .add("custom", 2.0, t -> Reward.of(t.messages().size()))
        .build();
    Trajectory good = withTools().withMetadata("answer", 5);
    Trajectory bad = ToolErrors.mark(withTools().withMetadata("answer", 6), 4);
    RuntimeException boom = new RuntimeException("rollout failed");
    TrajectoryGroup scored = reward.apply(new TrajectoryGroup(List.of(good, bad), List.of(boom)));
    Trajectory g = scored.trajectories().get(0);
    Trajectory b = scored.trajectories().get(1);
    assertEquals(1.0 + 0.5 + 0.25 + 2.0 * 7, g.reward(), 1e-12);
    assertEquals(0.0 + 0.5 + 0.0 + 2.0 * 7, b.reward(), 1e-12);
    assertEquals(1.0, g.metrics().get("answer_numeric"));
    assertEquals(0.0, b.metrics().get("answer_numeric"));
    assertEquals(1.0, b.metrics().get("tool_errors"));
    assertEquals(7.0, g.metrics().get("custom"));
    assertEquals(List.of(boom), scored.exceptions());
    assertEquals(0.0, good.reward(), "the input trajectory is not changed");
  }
}
