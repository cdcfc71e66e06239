package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.trajectory.ToolErrorKind;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The error texts of a real McpToolset (the bundled server over stdio) fall in the report's kinds. */
class ToolErrorKindsTest {

  @Test
  void eachFailureOfTheBundledServerHasItsKind() {
    try (McpToolset tools = McpToolset.builder().stdio("math", TestServers.mathServerCommand(true))
        .callTimeout(Duration.ofSeconds(2)).build()) {
      assertKind(ToolErrorKind.UNKNOWN_TOOL, tools.call("devide", "{\"a\": 1, \"b\": 2}"));
      assertKind(ToolErrorKind.BAD_ARGUMENTS, tools.call("add", "{\"a\": \"two\", \"b\": 1}"));
      assertKind(ToolErrorKind.BAD_ARGUMENTS, tools.call("add", "{a: 1"));
      assertKind(ToolErrorKind.BAD_ARGUMENTS, tools.call("add", "[1, 2]"));
      assertKind(ToolErrorKind.SERVER_ERROR, tools.call("division", "{\"a\": 1, \"b\": 0}"));
      assertKind(ToolErrorKind.TIMEOUT, tools.call("sleep", "{\"seconds\": 10}"));
    }
  }

  private static void assertKind(ToolErrorKind expected, ToolResult r) {
    assertTrue(r.isError(), r.text());
    assertEquals(expected, ToolErrorKind.classify(r.text()), r.text());
  }
}
