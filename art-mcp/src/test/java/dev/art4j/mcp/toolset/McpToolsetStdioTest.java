package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bundled math server as a real stdio subprocess, one per class. */
class McpToolsetStdioTest {

  static McpToolset tools;

  @BeforeAll
  static void start() {
    tools = McpToolset.builder()
        .stdio("math", TestServers.mathServerCommand(true))
        .callTimeout(Duration.ofSeconds(2))
        .maxResultChars(1000)
        .build();
  }

  @AfterAll
  static void stop() {
    tools.close();
  }

  @Test
  void listsTheToolsWithTheirSchemas() {
    List<String> names = tools.tools().stream().map(ToolSpec::name).toList();
    assertTrue(names.containsAll(List.of("add", "subtract", "multiply", "division", "power", "sqrt", "modulo")), names.toString());
    ToolSpec add = tools.tools().stream().filter(t -> t.name().equals("add")).findFirst().orElseThrow();
    assertEquals("number", add.parameters().at("/properties/a/type").asText());
    assertEquals("[\"a\",\"b\"]", add.parameters().get("required").toString());
    assertTrue(add.description().contains("a + b"));
  }

  @Test
  void callsTools() {
    assertEquals(ToolResult.ok("5"), tools.call("add", "{\"a\": 2, \"b\": 3}"));
    assertEquals(ToolResult.ok("3.5"), tools.call("division", "{\"a\": 7, \"b\": 2}"));
    assertEquals(ToolResult.ok("1024"), tools.call("power", "{\"base\": 2, \"exponent\": 10}"));
  }

  @Test
  void unknownToolSuggestsTheClosestName() {
    ToolResult r = tools.call("devide", "{\"a\": 1, \"b\": 2}");
    assertTrue(r.isError());
    assertTrue(r.text().startsWith("Unknown tool `devide`. Did you mean `division`?"), r.text());
    assertTrue(r.text().contains("Available: add, subtract, multiply, division,"), r.text());
    assertEquals(ToolResult.ok("3"), tools.call("add", "{\"a\": 1, \"b\": 2}"));
  }

  @Test
  void badArgumentsNameTheField() {
    ToolResult r = tools.call("add", "{\"a\": \"two\"}");
    assertTrue(r.isError());
    assertTrue(r.text().startsWith("Invalid arguments for tool `add`:"), r.text());
    assertTrue(r.text().contains("field `a` must be a number, got string \"two\""), r.text());
    assertTrue(r.text().contains("missing required field `b`"), r.text());

    ToolResult extra = tools.call("sqrt", "{\"x\": 4, \"y\": 1}");
    assertTrue(extra.isError() && extra.text().contains("unknown field `y` (expected `x`)"), extra.text());

    ToolResult notJson = tools.call("add", "{a: 1");
    assertTrue(notJson.isError() && notJson.text().startsWith("Arguments for tool `add` are not valid JSON"), notJson.text());

    ToolResult notObject = tools.call("add", "[1, 2]");
    assertTrue(notObject.isError() && notObject.text().contains("must be a JSON object"), notObject.text());
    assertEquals(ToolResult.ok("9"), tools.call("sqrt", "{\"x\": 81}"));
  }

  @Test
  void toolErrorIsReturnedAsAnErrorResult() {
    assertEquals(ToolResult.error("Division by zero: argument `b` must not be 0."), tools.call("division", "{\"a\": 1, \"b\": 0}"));
    assertEquals(ToolResult.ok("0.5"), tools.call("division", "{\"a\": 1, \"b\": 2}"));
  }

  @Test
  void timeOutIsAnErrorAndTheToolsetGoesOn() {
    long t0 = System.nanoTime();
    ToolResult r = tools.call("sleep", "{\"seconds\": 8}");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(ToolResult.error("Tool `sleep` timed out after 2 s and was abandoned."), r);
    assertTrue(ms >= 1900 && ms < 6000, "took " + ms + " ms");
    assertEquals(ToolResult.ok("12"), tools.call("multiply", "{\"a\": 3, \"b\": 4}"));
  }

  @Test
  void longResultsAreTruncatedWithANote() {
    ToolResult r = tools.call("factorial", "{\"n\": 1000}");
    assertFalse(r.isError());
    assertTrue(r.text().startsWith("402387260077"), r.text().substring(0, 20));
    assertTrue(r.text().endsWith("\n[truncated: the result has 2568 characters; only the first 1000 are shown]"),
        r.text().substring(990));
  }

  @Test
  void listsAndReadsResources() {
    List<McpResourceInfo> resources = tools.resources();
    assertEquals(List.of("math://constants"), resources.stream().map(McpResourceInfo::uri).toList());
    assertEquals("math", resources.get(0).server());
    assertTrue(tools.readResource("math://constants").contains("\"pi\": 3.14159"));
  }

  @Test
  void aServerKilledMidCallIsRestartedAndTheNextCallSucceeds() throws Exception {
    // its own server, with a call far longer than the kill takes to land, even on a slow machine
    try (McpToolset own = McpToolset.builder().stdio("math", TestServers.mathServerCommand(true))
        .callTimeout(Duration.ofSeconds(90)).build()) {
      ServerConnection math = own.connection("math");
      long pid = math.pid();
      CompletableFuture<ToolResult> slow = CompletableFuture.supplyAsync(() -> own.call("sleep", "{\"seconds\": 60}"));
      // kill it once the server has started the call (it logs "sleep: 60 s" to stderr)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!math.stderrTail().contains("sleep: 60 s")) {
        assertTrue(System.nanoTime() < deadline, "the server never started the call");
        Thread.sleep(10);
      }
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      ToolResult r = slow.get(30, TimeUnit.SECONDS);
      assertTrue(r.isError());
      assertTrue(r.text().matches("The MCP server `math` stopped \\(exit code \\d+\\) while running tool `sleep`; the call did not "
          + "complete and it has been restarted, so the tool can be called again\\."), r.text());
      assertEquals(1, own.restarts());
      assertTrue(math.pid() != pid);
      assertEquals(ToolResult.ok("42"), own.call("multiply", "{\"a\": 6, \"b\": 7}"));

      // killed between calls: the next call restarts it and goes through
      ProcessHandle.of(math.pid()).orElseThrow().destroyForcibly();
      while (math.running()) {
        assertTrue(System.nanoTime() < deadline, "the killed server is still running");
        Thread.sleep(10);
      }
      assertEquals(ToolResult.ok("1"), own.call("subtract", "{\"a\": 3, \"b\": 2}"));
      assertEquals(2, own.restarts());
    }
  }

  @Test
  void concurrentCallsFromAGroupOfRolloutsGetTheirOwnAnswers() throws Exception {
    List<CompletableFuture<ToolResult>> results = new java.util.ArrayList<>();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      for (int i = 0; i < 64; i++) {
        int a = i;
        results.add(CompletableFuture.supplyAsync(() -> tools.call("multiply", "{\"a\": " + a + ", \"b\": 3}"), pool));
      }
      for (int i = 0; i < 64; i++) {
        assertEquals(ToolResult.ok(Integer.toString(3 * i)), results.get(i).get(30, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdown();
    }
  }
}
