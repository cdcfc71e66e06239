package dev.art4j.examples.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Role;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.langchain4j.LocalChatModel;
import dev.art4j.template.ChatTemplate;
import dev.langchain4j.mcp.McpToolProvider;
import dev.langchain4j.mcp.client.DefaultMcpClient;
import dev.langchain4j.mcp.client.McpClient;
import dev.langchain4j.mcp.client.transport.stdio.StdioMcpTransport;
import dev.langchain4j.service.AiServices;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * langchain4j agent code — AiServices with langchain4j-mcp's {@link McpToolProvider} over the
 * bundled math MCP server, a real child JVM on stdio — driving the local policy through
 * {@link LocalChatModel}; the trajectory with its tokens is still captured for training. A random
 * tiny model will not call tools, so the replies are scripted token ids that go through exactly
 * the bookkeeping of sampled ones.
 */
class McpToolProviderTest {

  interface Assistant {
    String chat(String question);
  }

  /** Serves the next scripted text's ids plus the end-of-turn id, log-prob -0.25 each. */
  static final class Script implements CompletionSource {
    final ChatFormat format;
    final Deque<String> texts;
    final List<int[]> prompts = new ArrayList<>();
    final List<Completion> served = new ArrayList<>();

    Script(ChatFormat format, String... texts) {
      this.format = format;
      this.texts = new ArrayDeque<>(Arrays.asList(texts));
    }

    @Override
    public synchronized CompletableFuture<Completion> submit(int[] prompt, SamplingParams params) {
      prompts.add(prompt.clone());
      int[] text = format.tokenizer().encode(texts.poll());
      int[] ids = Arrays.copyOf(text, text.length + 1);
      ids[text.length] = format.endOfTurnId();
      float[] logprobs = new float[ids.length];
      Arrays.fill(logprobs, -0.25f);
      Completion c = new Completion(ids, logprobs, FinishReason.STOP, prompt.length, 0, 0, 0);
      served.add(c);
      return CompletableFuture.completedFuture(c);
    }
  }

  static Path tinyChat() {
    return Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
  }

  @Test
  void aiServicesWithMcpToolProviderDriveTheLocalPolicy() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    McpClient client = new DefaultMcpClient.Builder().key("math")
        .transport(new StdioMcpTransport.Builder()
            .command(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), MathServer.class.getName()))
            .build())
        .build();
    try (Policy policy = Policy.load(tinyChat()); Tokenizer tokenizer = policy.tokenizer().orElseThrow()) {
      ChatFormat format = ChatFormat.of(
          ChatTemplate.fromTokenizerConfig(tinyChat().resolve("tokenizer_config.json")), tokenizer);
      Script script = new Script(format,
          "<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 6, \"b\": 7}}\n</tool_call>",
          "6 times 7 is 42.");
      LocalChatModel model = LocalChatModel.builder(script, format).build();
      McpToolProvider tools = McpToolProvider.builder().mcpClients(client).filterToolNames("multiply", "add").build();
      Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).toolProvider(tools).build();

      assertEquals("6 times 7 is 42.", assistant.chat("What is 6 times 7?"));

      List<Trajectory> trajectories = model.drainTrajectories();
      assertEquals(1, trajectories.size());
      Trajectory t = trajectories.get(0);
      assertEquals(Set.of("multiply", "add"),
          t.tools().stream().map(s -> s.name()).collect(Collectors.toSet()),
          "the provider's filtered MCP tools are what the policy was offered");
      var toolMessage = t.messages().stream().filter(m -> m.role() == Role.TOOL).findFirst().orElseThrow();
      assertTrue(toolMessage.content().contains("42"), "the real MCP server computed 6*7: " + toolMessage.content());
      assertEquals(2, t.turns().size());
      assertArrayEquals(script.prompts.get(1), t.turns().get(1).promptIds());
      int sampled = script.served.stream().mapToInt(c -> c.tokens().length).sum();
      assertEquals(sampled, t.tokens().sampledCount(), "every served token is a training token, nothing else");
    } finally {
      client.close();
    }
  }
}
