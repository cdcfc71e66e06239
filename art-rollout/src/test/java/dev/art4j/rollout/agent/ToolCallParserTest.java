package dev.art4j.rollout.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class ToolCallParserTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static List<ToolSpec> mathTools() throws Exception {
    return List.of(
        new ToolSpec("add", "a + b", JSON.readTree(
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}},"
                + "\"required\":[\"a\",\"b\"],\"additionalProperties\":false}")),
        new ToolSpec("divide", "a / b", JSON.readTree(
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"},"
                + "\"mode\":{\"type\":\"string\",\"enum\":[\"exact\",\"floor\"]}},\"required\":[\"a\",\"b\"]}")),
        new ToolSpec("complete_task", "finish", JSON.readTree(
            "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}},\"required\":[\"answer\"]}")));
  }

  @Test
  void hermesReadsThinkingTextAndSeveralCalls() {
    String text = "<think>\nI need 1+2 and 6/3.\n</think>\n\nLet me compute.\n"
        + "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n"
        + "<tool_call>\n{\"name\": \"divide\", \"arguments\": {\"a\": 6, \"b\": 3}}\n</tool_call>";
    ParsedReply r = ToolCallParser.hermes().parse(text, "call_7_");
    assertEquals("I need 1+2 and 6/3.", r.reasoning());
    assertEquals("Let me compute.", r.content());
    assertEquals(List.of(new ToolCall("call_7_0", "add", "{\"a\":1,\"b\":2}"),
        new ToolCall("call_7_1", "divide", "{\"a\":6,\"b\":3}")), r.toolCalls());
    assertTrue(r.calls().stream().allMatch(ParsedCall::isOk));
  }

  @Test
  void hermesPlainAnswerHasNoCalls() {
    ParsedReply r = ToolCallParser.hermes().parse("The answer is 3.");
    assertFalse(r.hasToolCalls());
    assertNull(r.reasoning());
    assertEquals("The answer is 3.", r.content());
  }

  @Test
  void hermesMalformedJsonBecomesAProblemNotAnException() {
    String text = "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": }}\n</tool_call>"
        + "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}</tool_call>";
    ParsedReply r = ToolCallParser.hermes().parse(text);
    assertEquals(2, r.calls().size());
    ParsedCall bad = r.calls().get(0);
    assertFalse(bad.isOk());
    assertEquals("add", bad.call().name(), "name is recovered from malformed JSON");
    assertTrue(bad.problem().contains("not valid JSON"), bad.problem());
    assertTrue(bad.problem().contains("<tool_call>{\"name\""), "the problem shows the expected format: " + bad.problem());
    assertTrue(r.calls().get(1).isOk());
  }

  @Test
  void hermesUnclosedCallIsReadButFlagged() {
    ParsedReply r = ToolCallParser.hermes().parse("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}");
    assertEquals(1, r.calls().size());
    assertEquals("add", r.calls().get(0).call().name());
    assertTrue(r.calls().get(0).problem().contains("no closing </tool_call>"), r.calls().get(0).problem());
  }

  @Test
  void hermesTruncatedThinkingIsAllReasoning() {
    ParsedReply r = ToolCallParser.hermes().parse("<think>\nstill thinking about <tool_call>");
    assertEquals("still thinking about <tool_call>", r.reasoning());
    assertFalse(r.hasToolCalls());
  }

  @Test
  void hermesArgumentsAsJsonStringAreAccepted() {
    ParsedReply r = ToolCallParser.hermes().parse(
        "<tool_call>{\"name\": \"add\", \"arguments\": \"{\\\"a\\\": 1, \\\"b\\\": 2}\"}</tool_call>");
    assertEquals("{\"a\":1,\"b\":2}", r.toolCalls().get(0).argumentsJson());
    ParsedReply noName = ToolCallParser.hermes().parse("<tool_call>{\"arguments\": {}}</tool_call>");
    assertTrue(noName.calls().get(0).problem().contains("no \"name\""));
    ParsedReply array = ToolCallParser.hermes().parse("<tool_call>{\"name\": \"add\", \"arguments\": [1, 2]}</tool_call>");
    assertTrue(array.calls().get(0).problem().contains("must be a JSON object, got an array"), array.calls().get(0).problem());
  }

  @Test
  void llama3ReadsJsonCalls() {
    ParsedReply one = ToolCallParser.llama3Json().parse("{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}");
    assertEquals(List.of(new ToolCall("call_0", "add", "{\"a\":1,\"b\":2}")), one.toolCalls());
    ParsedReply tagged = ToolCallParser.llama3Json().parse(
        "<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}; {\"name\": \"divide\", \"parameters\": {\"a\": \"{;}\", \"b\": 3}}");
    assertEquals(2, tagged.calls().size());
    assertEquals("divide", tagged.calls().get(1).call().name());
    assertEquals("{\"a\":\"{;}\",\"b\":3}", tagged.calls().get(1).call().argumentsJson());
    ParsedReply array = ToolCallParser.llama3Json().parse("[{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}, {\"name\": \"add\", \"parameters\": {}}]");
    assertEquals(2, array.calls().size());
    ParsedReply answer = ToolCallParser.llama3Json().parse("The sum is {3}.");
    assertFalse(answer.hasToolCalls());
    assertEquals("The sum is {3}.", answer.content());
    ParsedReply broken = ToolCallParser.llama3Json().parse("{\"name\": \"add\", \"parameters\": {\"a\": 1,");
    assertFalse(broken.calls().get(0).isOk());
    assertEquals("add", broken.calls().get(0).call().name());
  }

  @Test
  void checkerNamesClosestToolsForUnknownName() throws Exception {
    String p = ToolCallChecker.problem(new ToolCall("c", "devide", "{\"a\":1,\"b\":2}"), mathTools());
    assertTrue(p.startsWith("Error: unknown tool 'devide'. Did you mean 'divide'?"), p);
    assertTrue(p.contains("Available tools: add, divide, complete_task"), p);
    String far = ToolCallChecker.problem(new ToolCall("c", "search_web", "{}"), mathTools());
    assertFalse(far.contains("Did you mean"), far);
  }

  @Test
  void checkerReportsSchemaViolations() throws Exception {
    List<ToolSpec> tools = mathTools();
    assertNull(ToolCallChecker.problem(new ToolCall("c", "add", "{\"a\":1,\"b\":2.5}"), tools));
    String missing = ToolCallChecker.problem(new ToolCall("c", "add", "{\"a\":1}"), tools);
    assertTrue(missing.contains("missing required field `b`"), missing);
    String type = ToolCallChecker.problem(new ToolCall("c", "add", "{\"a\":\"one\",\"b\":2}"), tools);
    assertTrue(type.contains("field `a` must be a number, got string \"one\""), type);
    String extra = ToolCallChecker.problem(new ToolCall("c", "add", "{\"a\":1,\"b\":2,\"c\":3}"), tools);
    assertTrue(extra.contains("unknown field `c`") && extra.contains("`a`") && extra.contains("`b`"), extra);
    String en = ToolCallChecker.problem(new ToolCall("c", "divide", "{\"a\":1,\"b\":2,\"mode\":\"round\"}"), tools);
    assertTrue(en.contains("field `mode` must be one of") && en.contains("exact") && en.contains("floor"), en);
    String notObject = ToolCallChecker.problem(new ToolCall("c", "add", "[1,2]"), tools);
    assertTrue(notObject.contains("the arguments must be an object, got array [1,2]"), notObject);
  }

  @Test
  void checkLeavesEarlierProblemsAndFlagsTheRest() throws Exception {
    ParsedReply r = ToolCallParser.hermes().parse(
        "<tool_call>{\"name\": \"ad\", \"arguments\": {}}</tool_call><tool_call>{bad</tool_call>"
            + "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}</tool_call>");
    ParsedReply checked = ToolCallChecker.check(r, mathTools());
    assertTrue(checked.calls().get(0).problem().contains("Did you mean 'add'?"), checked.calls().get(0).problem());
    assertTrue(checked.calls().get(1).problem().contains("not valid JSON"));
    assertTrue(checked.calls().get(2).isOk());
  }

}
