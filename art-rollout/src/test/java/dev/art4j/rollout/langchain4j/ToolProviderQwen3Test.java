package dev.art4j.rollout.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.tool.ToolProvider;
import dev.langchain4j.service.tool.ToolProviderResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A langchain4j {@link ToolProvider} (the interface langchain4j-mcp's {@code McpToolProvider}
 * implements) behind AiServices, with the real Qwen3 template and tokenizer: the tool's JSON schema
 * reaches the prompt, a call with thinking comes back as a langchain4j tool request.
 */
class ToolProviderQwen3Test {

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

  /** Replies with the next text's Qwen3 ids plus <|im_end|>; log-prob -0.5 each. */
  static final class Texts implements CompletionSource {
    final Deque<String> texts;
    final List<int[]> prompts = new ArrayList<>();
    final List<Completion> served = new ArrayList<>();

    Texts(String... texts) {
      this.texts = new ArrayDeque<>(Arrays.asList(texts));
    }

    @Override
    public synchronized CompletableFuture<Completion> submit(int[] prompt, SamplingParams p) {
      prompts.add(prompt);
      int[] ids = qwen3.tokenizer().encode(texts.poll());
      ids = Arrays.copyOf(ids, ids.length + 1);
      ids[ids.length - 1] = qwen3.endOfTurnId();
      float[] lp = new float[ids.length];
      Arrays.fill(lp, -0.5f);
      Completion c = new Completion(ids, lp, FinishReason.STOP, prompt.length, 0, 0, 0);
      served.add(c);
      return CompletableFuture.completedFuture(c);
    }
  }

  interface Assistant {
    String chat(String question);
  }

  @Test
  void toolProviderToolsAreRenderedCalledAndRecorded() {
    List<String> executed = new ArrayList<>();
    ToolSpecification multiply = ToolSpecification.builder().name("multiply").description("Multiplies two numbers.")
        .parameters(JsonObjectSchema.builder().addNumberProperty("a").addNumberProperty("b").required("a", "b").build())
        .build();
    ToolProvider provider = request -> ToolProviderResult.builder().add(multiply, (call, memoryId) -> {
      executed.add(call.arguments());
      return "42";
    }).build();
    Texts source = new Texts(
        "<think>\nI will multiply.\n</think>\n\n<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 6, \"b\": 7}}\n</tool_call>",
        "<think>\nThe tool said 42.\n</think>\n\n6 times 7 is 42.");
    LocalChatModel model = LocalChatModel.builder(source, qwen3).build();
    Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).toolProvider(provider).build();

    assertEquals("6 times 7 is 42.", assistant.chat("What is 6*7?"));

    assertEquals(1, executed.size());
    assertEquals("{\"a\":6,\"b\":7}", executed.get(0));
    String firstPrompt = qwen3.tokenizer().decode(source.prompts.get(0));
    assertTrue(firstPrompt.contains("{\"type\": \"function\", \"function\": {\"name\": \"multiply\", \"description\": \"Multiplies two numbers.\", "
        + "\"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\"}, \"b\": {\"type\": \"number\"}}, "
        + "\"required\": [\"a\", \"b\"]}}}"), firstPrompt);
    List<Trajectory> ts = model.drainTrajectories();
    assertEquals(1, ts.size());
    Trajectory t = ts.get(0);
    assertEquals("I will multiply.", t.messages().get(1).reasoningContent());
    assertArrayEquals(source.prompts.get(1), t.turns().get(1).promptIds());
    int[] p0 = source.prompts.get(0);
    int[] s0 = source.served.get(0).tokens();
    assertArrayEquals(s0, Arrays.copyOfRange(source.prompts.get(1), p0.length, p0.length + s0.length),
        "the reply with its <think> block is kept as sampled");
    assertEquals(s0.length + source.served.get(1).tokens().length, t.tokens().sampledCount());
  }
}
