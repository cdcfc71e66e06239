package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.mcp.math.MathServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bundled math server over streamable HTTP on 127.0.0.1 (in this JVM, hosted by Jetty). */
class McpToolsetHttpTest {

  static MathServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MathServer.startHttp(0, true);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void allowListShowsOnlyTheAllowedTools() {
    try (McpToolset tools = McpToolset.builder()
        .streamableHttp("math", server.url(), Map.of("X-Test", "1"))
        .allow("add", "subtract", "multiply", "division")
        .build()) {
      assertEquals(List.of("add", "subtract", "multiply", "division"), tools.tools().stream().map(ToolSpec::name).toList());
      assertEquals(ToolResult.ok("-4.5"), tools.call("division", "{\"a\": 9, \"b\": -2}"));
      ToolResult hidden = tools.call("power", "{\"base\": 2, \"exponent\": 3}");
      assertEquals(ToolResult.error("Unknown tool `power`. Available: add, subtract, multiply, division."), hidden);
      ToolResult typo = tools.call("multiplication", "{\"a\": 2, \"b\": 3}");
      assertTrue(typo.text().startsWith("Unknown tool `multiplication`. Did you mean `multiply`?"), typo.text());
    }
  }

  @Test
  void predicateFilterCombinesWithTheAllowList() {
    try (McpToolset tools = McpToolset.builder()
        .streamableHttp("math", server.url())
        .filter(t -> t.parameters().path("properties").size() == 1)
        .build()) {
      List<String> names = tools.tools().stream().map(ToolSpec::name).toList();
      assertTrue(names.containsAll(List.of("sqrt", "factorial", "average", "sleep")), names.toString());
      assertTrue(names.stream().noneMatch(List.of("add", "division", "power")::contains), names.toString());
      assertEquals(ToolResult.ok("3"), tools.call("average", "{\"numbers\": [1, 2, 6]}"));
      ToolResult badItem = tools.call("average", "{\"numbers\": [1, \"two\"]}");
      assertTrue(badItem.isError() && badItem.text().contains("field `numbers[1]` must be a number"), badItem.text());
    }
  }

  @Test
  void allowingAToolNoServerOffersFailsTheBuild() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> McpToolset.builder().streamableHttp("math", server.url()).allow("add", "integrate").build());
    assertTrue(e.getMessage().startsWith("allow-list names tools that no server offers: [integrate]; available: add,"), e.getMessage());
  }

  @Test
  void timeOutOverHttp() {
    try (McpToolset tools = McpToolset.builder().streamableHttp("math", server.url())
        .callTimeout(Duration.ofMillis(1500)).build()) {
      assertEquals(ToolResult.error("Tool `sleep` timed out after 1.5 s and was abandoned."), tools.call("sleep", "{\"seconds\": 6}"));
      assertEquals(ToolResult.ok("2"), tools.call("modulo", "{\"a\": 17, \"b\": 5}"));
    }
  }

  @Test
  void severalServersAtOnce() {
    try (McpToolset tools = McpToolset.builder()
        .streamableHttp("math", server.url())
        .stdio("math2", TestServers.mathServerCommand(false))
        .build()) {
      assertEquals(List.of("math", "math2"), tools.servers());
      // the second server's tools have the same names, so the first server's win
      assertEquals(tools.tools().stream().map(ToolSpec::name).distinct().count(), tools.tools().size());
      assertEquals(ToolResult.ok("7"), tools.call("add", "{\"a\": 3, \"b\": 4}"));
      assertEquals(2, tools.resources().size());
    }
  }

  @Test
  void aServerThatNeverAnswersFailsWithinTheListTimeout() {
    long t0 = System.nanoTime();
    McpServerException e = assertThrows(McpServerException.class, () -> McpToolset.builder()
        .stdio("mute", List.of("sleep", "30"))
        .listTimeout(Duration.ofSeconds(1))
        .build());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().startsWith("MCP server `mute`: could not connect to it"), e.getMessage());
    assertTrue(e.getMessage().endsWith("(command: sleep 30)"), e.getMessage());
    assertTrue(ms < 8000, "took " + ms + " ms");
  }

  @Test
  void aServerThatFailsToStartReportsItsStderr() {
    McpServerException e = assertThrows(McpServerException.class, () -> McpToolset.builder()
        .stdio("broken", List.of("sh", "-c", "echo 'Error: Cannot find module server.js' >&2; exit 3"))
        .listTimeout(Duration.ofSeconds(5))
        .build());
    assertTrue(e.getMessage().startsWith("MCP server `broken`: could not connect to it"), e.getMessage());
    assertTrue(e.getMessage().endsWith("last lines of its stderr:\nError: Cannot find module server.js"), e.getMessage());
  }
}
