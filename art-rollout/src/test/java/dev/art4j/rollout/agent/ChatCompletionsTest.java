package dev.art4j.rollout.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.template.ChatTemplate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Stateless requests continuing recorded conversations, on the tiny-chat tokenizer (no model needed). */
class ChatCompletionsTest {

  static Tokenizer tokenizer;
  static ChatFormat format;

  @BeforeAll
  static void load() throws Exception {
    tokenizer = Tokenizer.load(TestKit.tinyChat());
    format = ChatFormat.of(ChatTemplate.fromTokenizerConfig(TestKit.tinyChat().resolve("tokenizer_config.json")), tokenizer);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  /** Replies with the next text's ids (plus end-of-turn unless it ends with the marker "|cut"), log-prob -1 each. */
  static final class Texts implements CompletionSource {
    final Deque<String> texts;
    final List<int[]> prompts = new ArrayList<>();
    final List<SamplingParams> params = new ArrayList<>();

    Texts(String... texts) {
      this.texts = new ArrayDeque<>(Arrays.asList(texts));
    }

    @Override
    public synchronized CompletableFuture<Completion> submit(int[] prompt, SamplingParams p) {
      prompts.add(prompt);
      params.add(p);
      String t = texts.poll();
      boolean cut = t.endsWith("|cut");
      int[] ids = format.encode(cut ? t.substring(0, t.length() - 4) : t);
      if (!cut) {
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = format.endOfTurnId();
      }
      float[] lp = new float[ids.length];
      Arrays.fill(lp, -1f);
      return CompletableFuture.completedFuture(new Completion(ids, lp, cut ? FinishReason.LENGTH : FinishReason.STOP, prompt.length, 0, 0, 0));
    }
  }

  static final SamplingParams P = SamplingParams.builder().maxNewTokens(50).build();
  static final List<ToolSpec> TOOLS = TestKit.mathToolset().tools();

  @Test
  void aClientResendingTheConversationContinuesTheRecordedTokens() throws Exception {
    Texts source = new Texts("<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}</tool_call>", "It is 3.");
    ChatCompletions chat = new ChatCompletions(source, format, 10);
    List<Message> conversation = new ArrayList<>(List.of(Message.user("1+2?")));
    ChatCompletions.Choice first = chat.complete(conversation, TOOLS, P, ToolChoice.AUTO, 1).get(0);
    assertEquals("tool_calls", first.finishReason());
    ToolCall call = first.message().toolCalls().get(0);
    // the client re-serialises the arguments and pads the content: still the same conversation
    conversation.add(Message.assistant("  ", List.of(new ToolCall(call.id(), "add", "{ \"b\": 2, \"a\": 1 }"))));
    conversation.add(Message.tool(call.id(), "add", "3"));
    ChatCompletions.Choice second = chat.complete(conversation, TOOLS, P, ToolChoice.AUTO, 1).get(0);
    assertEquals("stop", second.finishReason());
    assertEquals("It is 3.", second.message().content());

    int[] p0 = source.prompts.get(0);
    int[] p1 = source.prompts.get(1);
    assertArrayEquals(p0, Arrays.copyOf(p1, p0.length));
    assertArrayEquals(first.completion().tokens(), Arrays.copyOfRange(p1, p0.length, p0.length + first.completion().tokens().length));
    List<Trajectory> kept = chat.trajectories();
    assertEquals(1, kept.size(), "the first state was replaced by its continuation");
    assertEquals(2, kept.get(0).turns().size());
    assertTrue(source.params.get(0).stopTokenIds().contains(format.endOfTurnId()), "end-of-turn is always a stop id");
  }

  @Test
  void anAssistantMessageTheServerDidNotWriteStartsAFreshConversation() throws Exception {
    Texts source = new Texts("Hello.", "Bye.");
    ChatCompletions chat = new ChatCompletions(source, format, 10);
    chat.complete(List.of(Message.user("hi")), List.of(), P, ToolChoice.AUTO, 1);
    List<Message> edited = List.of(Message.user("hi"), Message.assistant("Something else."), Message.user("bye"));
    ChatCompletions.Choice c = chat.complete(edited, List.of(), P, ToolChoice.AUTO, 1).get(0);
    assertEquals(2, chat.trajectories().size());
    Trajectory t = c.trajectory();
    assertEquals(1, t.turns().size(), "the injected reply is prompt, not a sampled turn");
    assertArrayEquals(format.encode(format.render(edited, List.of(), true)), t.turns().get(0).promptIds());
    assertThrows(IllegalArgumentException.class,
        () -> chat.complete(List.of(Message.user("x"), Message.assistant("y")), List.of(), P, ToolChoice.AUTO, 1));
  }

  @Test
  void stopStringsEndTheTextButTheTokensKeepEverything() throws Exception {
    Texts source = new Texts("one two STOP three|cut");
    ChatCompletions chat = new ChatCompletions(source, format, 10);
    SamplingParams stop = P.toBuilder().stopStrings(List.of("STOP")).build();
    ChatCompletions.Choice c = chat.complete(List.of(Message.user("count")), List.of(), stop, ToolChoice.AUTO, 1).get(0);
    assertEquals("one two", c.message().content());
    assertEquals("length", c.finishReason());
    assertEquals("one two STOP three", tokenizer.decode(c.trajectory().turns().get(0).sampledIds()));
  }

  @Test
  void requiredToolChoicePrefillsACallAndNChoicesBranch() throws Exception {
    Texts source = new Texts("add\", \"arguments\": {\"a\": 1, \"b\": 1}}</tool_call>", "multiply\", \"arguments\": {\"a\": 2}}</tool_call>");
    ChatCompletions chat = new ChatCompletions(source, format, 10);
    List<ChatCompletions.Choice> cs = chat.complete(List.of(Message.user("go")), TOOLS, P, ToolChoice.REQUIRED, 2);
    assertEquals(2, cs.size());
    assertEquals("add", cs.get(0).message().toolCalls().get(0).name());
    assertEquals("multiply", cs.get(1).message().toolCalls().get(0).name());
    assertTrue(tokenizer.decode(source.prompts.get(0)).endsWith("<|im_start|>assistant\n<tool_call>\n{\"name\": \""));
    // the rest of the call is constrained: a tool's name, its arguments, the closing text
    dev.art4j.rollout.constrain.JsonConstraint forced = (dev.art4j.rollout.constrain.JsonConstraint) source.params.get(0).constraint();
    assertTrue(forced.accepts("add\", \"arguments\": {\"a\": 1, \"b\": 1}}\n</tool_call>"));
    assertTrue(forced.accepts("explode\", \"arguments\": {}}\n</tool_call>"));
    assertTrue(!forced.accepts("add\", \"arguments\": {\"a\": 1}}\n</tool_call>"), "b is required");
    assertTrue(!forced.acceptsPrefix("divide"), "not a tool");
    assertEquals(2, chat.trajectories().size(), "each choice is its own conversation");
    assertEquals(List.of(Role.USER, Role.ASSISTANT), cs.get(1).trajectory().messages().stream().map(Message::role).toList());
    assertThrows(IllegalArgumentException.class,
        () -> chat.complete(List.of(Message.user("go")), TOOLS, P, ToolChoice.function("divide"), 1));
  }

  /** A reply constrained to JSON content is content: a string in it that looks like a call stays text. */
  @Test
  void aJsonConstrainedReplyIsNeverReadForToolCalls() throws Exception {
    String json = "{\"note\": \"<tool_call>{\\\"name\\\": \\\"add\\\"}</tool_call>\"}";
    Texts source = new Texts(json, json);
    ChatCompletions chat = new ChatCompletions(source, format, 10);
    dev.art4j.rollout.constrain.JsonConstraint object = dev.art4j.rollout.constrain.JsonConstraint.anyObject(
        dev.art4j.rollout.constrain.TokenVocabulary.of(tokenizer));
    assertTrue(object.accepts(json), json);
    SamplingParams constrained = P.toBuilder().constraint(object).build();
    ChatCompletions.Choice plain = chat.complete(List.of(Message.user("json please")), TOOLS, constrained, ToolChoice.AUTO, 1).get(0);
    assertEquals(json, plain.message().content(), "content only");
    assertTrue(plain.message().toolCalls().isEmpty());
    assertEquals("stop", plain.finishReason());
    ChatCompletions.Choice parsed = chat.complete(List.of(Message.user("again")), TOOLS, P, ToolChoice.AUTO, 1).get(0);
    assertEquals(1, parsed.message().toolCalls().size(), "unconstrained, the same text is read as a call");
  }
}
