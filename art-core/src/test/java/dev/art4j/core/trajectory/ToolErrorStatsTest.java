package dev.art4j.core.trajectory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToolErrorStatsTest {

  @Test
  void theTextsThisProjectWritesAreClassified() {
    // art-rollout's checks before the call
    assertEquals(ToolErrorKind.UNKNOWN_TOOL, ToolErrorKind.classify("Error: unknown tool 'devide'. Did you mean 'divide'?"));
    assertEquals(ToolErrorKind.BAD_ARGUMENTS, ToolErrorKind.classify("Error: invalid arguments for tool 'add': missing b"));
    assertEquals(ToolErrorKind.BAD_ARGUMENTS, ToolErrorKind.classify("Error: the arguments of tool 'add' are not valid JSON (x)."));
    assertEquals(ToolErrorKind.BAD_ARGUMENTS, ToolErrorKind.classify("Error: the tool call has no closing </tool_call> tag."));
    // art-mcp's McpToolset
    assertEquals(ToolErrorKind.UNKNOWN_TOOL, ToolErrorKind.classify("Unknown tool `devide`. Did you mean `division`?"));
    assertEquals(ToolErrorKind.BAD_ARGUMENTS, ToolErrorKind.classify("Invalid arguments for tool `add`: field `a` must be a number"));
    assertEquals(ToolErrorKind.BAD_ARGUMENTS, ToolErrorKind.classify("Arguments for tool `add` are not valid JSON (x): {a"));
    assertEquals(ToolErrorKind.TIMEOUT, ToolErrorKind.classify("Tool `sleep` timed out after 2 s and was abandoned."));
    assertEquals(ToolErrorKind.TIMEOUT, ToolErrorKind.classify("There was a timeout executing the tool"));
    // the server's own
    assertEquals(ToolErrorKind.SERVER_ERROR, ToolErrorKind.classify("Division by zero: argument `b` must not be 0."));
    assertEquals(ToolErrorKind.SERVER_ERROR, ToolErrorKind.classify("The MCP server `math` stopped (exit code 137) while running tool `sleep`"));
    assertEquals(ToolErrorKind.SERVER_ERROR, ToolErrorKind.classify("Query failed: the upstream timed out after 3 retries"));
  }

  @Test
  void countsByKindAndByToolOverAStep() {
    Trajectory a = marked(List.of(
        Message.user("q"),
        Message.assistant("", List.of(new ToolCall("c1", "devide", "{}"), new ToolCall("c2", "division", "{\"a\":1,\"b\":0}"))),
        Message.tool("c1", "devide", "Unknown tool `devide`. Did you mean `division`?"),
        Message.tool("c2", null, "Division by zero: argument `b` must not be 0."),  // named through its call id
        Message.assistant("", List.of(new ToolCall("c3", "sleep", "{}"))),
        Message.tool("c3", "sleep", "Tool `sleep` timed out after 2 s and was abandoned.")), 2, 3, 5);
    Trajectory b = marked(List.of(
        Message.user("q"),
        Message.assistant("", List.of(new ToolCall("c1", "division", "{\"a\":\"x\"}"), new ToolCall("c2", "add", "{}"))),
        Message.tool("c1", "division", "Invalid arguments for tool `division`: field `a` must be a number"),
        Message.tool("c2", "add", "3")), 2);
    Trajectory clean = Trajectory.ofMessages(List.of(Message.user("q"), Message.assistant("4")));

    Map<String, Double> m = ToolErrorStats.metrics(List.of(TrajectoryGroup.of(List.of(a, clean)), TrajectoryGroup.of(List.of(b))));

    Map<String, Double> expected = new LinkedHashMap<>();
    expected.put("tool_errors/unknown_tool", 1.0);
    expected.put("tool_errors/bad_arguments", 1.0);
    expected.put("tool_errors/server_error", 1.0);
    expected.put("tool_errors/timeout", 1.0);
    expected.put("tool_errors/tool/(unknown)", 1.0);
    expected.put("tool_errors/tool/division", 2.0);
    expected.put("tool_errors/tool/sleep", 1.0);
    assertEquals(expected, m);
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(m.keySet()), "kinds first, then tools by name");
    assertEquals(Map.of("tool_errors/unknown_tool", 0.0, "tool_errors/bad_arguments", 0.0, "tool_errors/server_error", 0.0,
        "tool_errors/timeout", 0.0), ToolErrorStats.metrics(List.of(TrajectoryGroup.of(List.of(clean)))));
  }

  private static Trajectory marked(List<Message> messages, int... failed) {
    Trajectory t = Trajectory.ofMessages(messages);
    for (int i : failed) {
      t = ToolErrors.mark(t, i);
    }
    return t;
  }
}
