package dev.art4j.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long parsing and rendering the real Qwen3 chat template takes; prints one JSON object.
 * Run after {@code mvn -o -pl art-core test-compile} with
 * {@code java -cp art-template/target/classes:art-template/target/test-classes:art-core/target/classes:<deps> dev.art4j.template.TemplateBenchmark [tokenizer_config.json]}.
 */
public final class TemplateBenchmark {

  public static void main(String[] args) throws Exception {
    Path config = Path.of(args.length > 0 ? args[0] : "art-core/src/test/resources/fixtures/templates/qwen3/tokenizer_config.json");
    String source = new ObjectMapper().readTree(Files.readString(config)).get("chat_template").textValue();
    ObjectMapper json = new ObjectMapper();
    List<ToolSpec> tools = List.of(
        new ToolSpec("division", "Divide a by b.", json.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}},\"required\":[\"a\",\"b\"]}")),
        new ToolSpec("add", "Add two numbers.", json.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}},\"required\":[\"a\",\"b\"]}")));
    List<Message> agentTurn = conversation(4);
    List<Message> longConversation = conversation(50);

    for (int i = 0; i < 2000; i++) {
      ChatTemplate.of(source);
    }
    int parses = 2000;
    long t0 = System.nanoTime();
    ChatTemplate template = null;
    for (int i = 0; i < parses; i++) {
      template = ChatTemplate.of(source);
    }
    double parseUs = (System.nanoTime() - t0) / 1e3 / parses;

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("template", config.toString());
    result.put("parse_us", round(parseUs));
    result.put("render_us_4_turns_2_tools", round(renderUs(template, agentTurn, tools, 20000)));
    result.put("render_us_50_turns_2_tools", round(renderUs(template, longConversation, tools, 2000)));
    result.put("chars_50_turns", template.render(longConversation, tools, true, Map.of()).length());
    System.out.println(json.writeValueAsString(result));
  }

  private static double renderUs(ChatTemplate template, List<Message> messages, List<ToolSpec> tools, int n) {
    for (int i = 0; i < n; i++) {
      template.render(messages, tools, true, Map.of());
    }
    long t0 = System.nanoTime();
    int sink = 0;
    for (int i = 0; i < n; i++) {
      sink += template.render(messages, tools, true, Map.of()).length();
    }
    if (sink == 42) {
      System.out.print("");
    }
    return (System.nanoTime() - t0) / 1e3 / n;
  }

  /** A system prompt, then per round: a user question, a tool call with reasoning, its result, an answer. */
  private static List<Message> conversation(int rounds) {
    List<Message> out = new ArrayList<>();
    out.add(Message.system("You are a careful assistant. Use tools when they help."));
    for (int r = 0; r < rounds; r++) {
      out.add(Message.user("What is " + (r + 10) + " divided by 4?"));
      out.add(new Message(Role.ASSISTANT, "", List.of(new ToolCall("call_" + r, "division", "{\"a\": " + (r + 10) + ", \"b\": 4}")),
          null, null, "I should call division."));
      out.add(Message.tool("call_" + r, "division", Double.toString((r + 10) / 4.0)));
      out.add(new Message(Role.ASSISTANT, "The answer is " + (r + 10) / 4.0 + ".", null, null, null, "Done."));
    }
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
