package dev.art4j.rollout.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.template.ChatTemplate;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Rendering, parsing and token bookkeeping with the real Qwen3 tokenizer and chat template. */
class Qwen3FormatTest {

  static ChatFormat qwen3;

  @BeforeAll
  static void load() throws Exception {
    qwen3 = ChatFormat.load(TestKit.qwen3());
  }

  @AfterAll
  static void close() {
    if (qwen3 != null) {
      qwen3.tokenizer().close();
    }
  }

  static final List<Message> START = List.of(Message.system("You are a calculator."), Message.user("What is 1+2 and 3*4?"));

  /** A reply "sampled" as the token ids of text, ending with <|im_end|>, with made-up log-probs. */
  static Completion reply(String text, boolean closeTurn) {
    int[] ids = qwen3.encode(text);
    if (closeTurn) {
      ids = Arrays.copyOf(ids, ids.length + 1);
      ids[ids.length - 1] = qwen3.endOfTurnId();
    }
    float[] lp = new float[ids.length];
    for (int i = 0; i < lp.length; i++) {
      lp[i] = -0.01f * (i + 1);
    }
    return new Completion(ids, lp, closeTurn ? FinishReason.STOP : FinishReason.LENGTH, 0, 0, 0, 0);
  }

  @Test
  void formatIsDetectedFromTheCheckpoint() {
    Tokenizer t = qwen3.tokenizer();
    assertEquals(t.tokenToId("<|im_end|>"), qwen3.endOfTurnId());
    assertEquals("<|im_end|>", qwen3.endOfTurn());
    assertEquals("<tool_call>\n{\"name\": \"", qwen3.parser().forcedCallPrefix(null), "Qwen3's template teaches Hermes calls");
  }

  @Test
  void thinkingAndSeveralCallsParsedAndTokensExtendedExactly() {
    List<ToolSpec> tools = TestKit.mathToolset().tools();
    Transcript tr = Transcript.start(qwen3, START, tools);
    String rendered = qwen3.render(START, tools, true);
    assertTrue(rendered.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"add\""), rendered);
    assertArrayEquals(qwen3.encode(rendered), tr.prompt());

    // the canonical form the template itself writes: <think>, text, two calls
    String text = "<think>\nTwo operations, two calls.\n</think>\n\nComputing both.\n"
        + "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n"
        + "<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 3, \"b\": 4}}\n</tool_call>";
    Completion c = reply(text, true);
    ParsedReply r = tr.addReply(c, "call_0_");
    assertEquals("Two operations, two calls.", r.reasoning());
    assertEquals("Computing both.", r.content());
    assertEquals(List.of(new ToolCall("call_0_0", "add", "{\"a\":1,\"b\":2}"),
        new ToolCall("call_0_1", "multiply", "{\"a\":3,\"b\":4}")), r.toolCalls());

    List<Message> results = List.of(Message.tool("call_0_0", "add", "3"), Message.tool("call_0_1", "multiply", "12"));
    tr.addMessages(results);
    int[] next = tr.prompt();
    int[] first = qwen3.encode(rendered);
    // token-in/token-out: the old prompt and the sampled ids are kept as they were
    assertArrayEquals(first, Arrays.copyOf(next, first.length));
    assertArrayEquals(c.tokens(), Arrays.copyOfRange(next, first.length, first.length + c.tokens().length));
    // and only the new text was added: the template's newline, one user block with both results, the prompt
    String added = qwen3.tokenizer().decode(Arrays.copyOfRange(next, first.length + c.tokens().length, next.length));
    assertEquals("\n<|im_start|>user\n<tool_response>\n3\n</tool_response>\n<tool_response>\n12\n</tool_response><|im_end|>\n"
        + "<|im_start|>assistant\n", added);
    // the model wrote canonical text, so here the ids even equal a fresh tokenisation of the whole rendering
    String full = qwen3.render(tr.messages(), tools, true);
    assertArrayEquals(qwen3.encode(full), next);

    Completion answer = reply("<think>\n3 and 12.\n</think>\n\n1+2 = 3 and 3*4 = 12.", true);
    ParsedReply last = tr.addReply(answer, "call_1_");
    assertEquals("1+2 = 3 and 3*4 = 12.", last.content());
    TokenSequence seq = tr.toTrajectory().tokens();
    assertEquals(c.tokens().length + answer.tokens().length, seq.sampledCount());
    assertEquals(next.length + answer.tokens().length, seq.length());
    assertEquals(-0.01f, seq.logprobs()[first.length]);
  }

  @Test
  void textTheModelWroteIsNeverReTokenised() {
    List<ToolSpec> tools = TestKit.mathToolset().tools();
    Transcript tr = Transcript.start(qwen3, START, tools);
    int promptLength = tr.length();
    // compact JSON and no reasoning: the template would render this reply differently
    Completion c = reply("<tool_call>{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}}</tool_call>", true);
    tr.addReply(c, "c");
    tr.addMessages(List.of(Message.tool("c0", "add", "3")));
    int[] next = tr.prompt();
    assertArrayEquals(c.tokens(), Arrays.copyOfRange(next, promptLength, promptLength + c.tokens().length));
    String rerendered = qwen3.render(tr.messages(), tools, true);
    assertNotEquals(rerendered, qwen3.tokenizer().decode(next), "a re-render would have changed the model's text");
    assertTrue(qwen3.tokenizer().decode(next).contains("<tool_call>{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}}</tool_call><|im_end|>"
        + "\n<|im_start|>user\n<tool_response>\n3\n</tool_response><|im_end|>\n<|im_start|>assistant\n"));
  }

  @Test
  void aReplyCutOffGetsItsEndOfTurnAsPrompt() {
    Transcript tr = Transcript.start(qwen3, START, List.of());
    Completion c = reply("<think>\nLet me think about this for a long", false);
    ParsedReply r = tr.addReply(c, "c");
    assertEquals("Let me think about this for a long", r.reasoning());
    tr.addMessages(List.of(Message.user("Please answer now.")));
    Trajectory t = tr.toTrajectory();
    int[] next = tr.prompt();
    int after = t.turns().get(0).promptIds().length + c.tokens().length;
    assertEquals(qwen3.endOfTurnId(), next[after], "<|im_end|> appended, not sampled");
    assertEquals("\n<|im_start|>user\nPlease answer now.<|im_end|>\n<|im_start|>assistant\n",
        qwen3.tokenizer().decode(Arrays.copyOfRange(next, after + 1, next.length)));
    tr.addReply(reply("Three and twelve.", true), "c");
    TokenSequence seq = tr.toTrajectory().tokens();
    assertTrue(!seq.sampled()[after], "the appended end-of-turn is not a sampled position");
    assertTrue(seq.sampled()[after - 1]);
  }

  @Test
  void thinkingDisabledGenerationPromptStaysInThePrompt() {
    ChatFormat noThink = qwen3.withTemplateVariables(Map.of("enable_thinking", false));
    Transcript tr = Transcript.start(noThink, START, List.of());
    assertTrue(noThink.tokenizer().decode(tr.prompt()).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    int before = tr.length();
    Completion c = reply("It is 3 and 12.", true);
    tr.addReply(c, "c");
    tr.addMessages(List.of(Message.user("Thanks. And 2+2?")));
    // the empty think block the template rendered is not rendered for an older reply; the ids keep it
    assertArrayEquals(c.tokens(), Arrays.copyOfRange(tr.prompt(), before, before + c.tokens().length));
    assertTrue(noThink.tokenizer().decode(tr.prompt()).contains("<think>\n\n</think>\n\nIt is 3 and 12.<|im_end|>\n<|im_start|>user\nThanks. And 2+2?"));
  }

  @Test
  void qwen25TemplateWithTheSameVocabularyKeepsTheBookkeepingExact() {
    Path config = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("templates/qwen2_5/tokenizer_config.json");
    ChatFormat qwen25 = ChatFormat.of(ChatTemplate.fromTokenizerConfig(config), qwen3.tokenizer());
    assertEquals(qwen3.endOfTurnId(), qwen25.endOfTurnId());
    List<ToolSpec> tools = TestKit.mathToolset().tools();
    Transcript tr = Transcript.start(qwen25, List.of(Message.user("1+2?")), tools);
    assertTrue(qwen25.tokenizer().decode(tr.prompt()).startsWith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud."),
        "Qwen2.5's default system prompt");
    int before = tr.length();
    Completion c = reply("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>", true);
    ParsedReply r = tr.addReply(c, "x");
    assertEquals("add", r.toolCalls().get(0).name());
    tr.addMessages(List.of(Message.tool("x0", "add", "3")));
    int[] next = tr.prompt();
    assertEquals("\n<|im_start|>user\n<tool_response>\n3\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
        qwen25.tokenizer().decode(Arrays.copyOfRange(next, before + c.tokens().length, next.length)));
  }
}
