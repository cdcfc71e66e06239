package dev.art4j.examples.math;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.examples.starter.StarterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The math task's embedded starter: its tools (the four arithmetic tools of the bundled math MCP
 * server) and its SFT demonstrations. In a demonstration the user asks a math question, the
 * assistant reads it as an expression ({@code 37 * 12}), calls a tool chosen <em>at random</em>
 * with the question's two numbers, and answers with whatever the tool returned. The warm-started model therefore knows how to call a tool and
 * report its result, but not which tool fits which question: that is what RL must teach.
 */
public final class MathStarter {

  /** The tools the math task offers, in the order the system prompt lists them. */
  public static final List<String> TOOLS = List.of("add", "subtract", "multiply", "division");

  private static final ObjectMapper JSON = new ObjectMapper();

  private MathStarter() {}

  /** The math starter's spec with the given seed. */
  public static StarterSpec spec(long seed) {
    List<String> extra = new ArrayList<>();
    for (Operation op : Operation.values()) {
      for (String p : op.phrasings()) {
        extra.add(p.replace("{a}", "1").replace("{b}", "2"));
      }
    }
    extra.add("The answer is -1.5.");
    // the plain call prefix stays tokenised word by word: demonstrations only show it fused
    extra.add(CALL_PREFIX + "add\", \"arguments\": {\"a\": 1, \"b\": 2}}</tool_call>");
    return new StarterSpec("math", seed, toolSpecs(), MathStarter::demonstration, extra,
        new StarterSpec.Shape(128, 4, 4, 2, 384, 1024), 4000, 400, fusedTokens());
  }

  /**
   * One added token per operation: the sign fused with the call prefix,
   * {@code " *<tool_call>{\"name\": \""}. The restatement ends with the sign, so the token right
   * before the tool name is the operation itself; see {@link #restatement}.
   */
  static List<String> fusedTokens() {
    List<String> out = new ArrayList<>();
    for (Operation op : Operation.values()) {
      out.add(" " + op.symbol() + CALL_PREFIX);
    }
    return out;
  }

  /** How the compact template opens a tool call, up to the tool name. */
  static final String CALL_PREFIX = "<tool_call>{\"name\": \"";

  /** Tool specs matching the bundled math server's arithmetic tools (names, descriptions, a/b schema). */
  public static List<ToolSpec> toolSpecs() {
    List<ToolSpec> out = new ArrayList<>();
    String[] descriptions = {"Add two numbers: a + b.", "Subtract b from a: a - b.", "Multiply two numbers: a * b.",
        "Divide a by b: a / b. b must not be zero."};
    for (int i = 0; i < TOOLS.size(); i++) {
      ObjectNode schema = JSON.createObjectNode().put("type", "object");
      ObjectNode props = schema.putObject("properties");
      props.putObject("a").put("type", "number").put("description", "first operand");
      props.putObject("b").put("type", "number").put("description", "second operand");
      schema.putArray("required").add("a").add("b");
      out.add(new ToolSpec(TOOLS.get(i), descriptions[i], schema));
    }
    return List.copyOf(out);
  }

  /** One demonstration: question, a call to a random tool, its result, the answer. */
  static List<Message> demonstration(Random rnd) {
    MathProblem p = MathProblems.draw(rnd, "demo");
    Operation tool = Operation.values()[rnd.nextInt(Operation.values().length)];
    String args = "{\"a\": " + p.a() + ", \"b\": " + p.b() + "}";
    String result = Operation.format(tool.apply(p.a(), p.b()));
    return List.of(
        Message.user(p.question()),
        Message.assistant(restatement(p), List.of(new ToolCall("call_0", tool.tool(), args))),
        Message.tool("call_0", tool.tool(), result),
        Message.assistant(answerText(result)));
  }

  /**
   * What the assistant writes before its tool call: the question read as an expression,
   * {@code 37 * 12}. Reading the task is part of the format the warm start teaches; which tool
   * computes a {@code *} is not (the demonstrated tool is random), and RL learns it from reward.
   * The sign sits a few tokens before the tool name so that the choice can hang on one nearby
   * token (measured: it was not enough for GRPO to learn the choice; see examples/README.md).
   */
  public static String restatement(MathProblem p) {
    return p.a() + " " + p.operation().symbol() + " " + p.b() + ": " + p.operation().symbol();
  }

  /** How the starter phrases its final answer. */
  public static String answerText(String result) {
    return "The answer is " + result + ".";
  }
}
