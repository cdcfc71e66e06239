package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Real third-party MCP servers installed from npm: {@code @coo-quack/calc-mcp} (stdio) and
 * {@code @modelcontextprotocol/server-everything} (stdio and streamable HTTP).
 */
class ThirdPartyServersTest {

  static final List<Process> started = new java.util.concurrent.CopyOnWriteArrayList<>();

  @AfterAll
  static void stop() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
  }

  @Test
  void calcMcpFilteredToArithmetic() {
    Path bin = TestServers.npmBin("calc-mcp");
    Set<String> arithmetic = Set.of("math", "base", "convert");
    try (McpToolset tools = McpToolset.builder()
        .stdio("calc", List.of(bin.toString()))
        .filter(t -> arithmetic.contains(t.name()))
        .build()) {
      assertEquals(arithmetic, Set.copyOf(tools.tools().stream().map(ToolSpec::name).toList()));
      ToolResult r = tools.call("math", "{\"expression\": \"2 * (3 + 4)\"}");
      assertFalse(r.isError(), r.text());
      assertTrue(r.text().contains("14"), r.text());
      // checked here against the server's enum before the call
      ToolResult badEnum = tools.call("math", "{\"expression\": \"1+1\", \"action\": \"integrate\"}");
      assertTrue(badEnum.isError() && badEnum.text().contains("field `action` must be one of [\"eval\",\"statistics\"]"),
          badEnum.text());
      ToolResult hidden = tools.call("hash", "{\"input\": \"x\", \"algorithm\": \"md5\"}");
      assertTrue(hidden.text().startsWith("Unknown tool `hash`."), hidden.text());
      assertTrue(tools.call("base", "{\"value\": \"255\", \"from\": 10, \"to\": 16}").text().toLowerCase().contains("ff"));
    }
  }

  @Test
  void everythingOverStdio() {
    Path bin = TestServers.npmBin("mcp-server-everything");
    try (McpToolset tools = McpToolset.builder()
        .stdio("everything", List.of(bin.toString(), "stdio"))
        .allow("echo", "get-sum", "trigger-long-running-operation")
        // the ordinary calls must fit too, on a slow machine; the long operation must not
        .callTimeout(Duration.ofSeconds(3))
        .build()) {
      assertEquals(ToolResult.ok("The sum of 2 and 40 is 42."), tools.call("get-sum", "{\"a\": 2, \"b\": 40}"));
      ToolResult timeout = tools.call("trigger-long-running-operation", "{\"duration\": 20, \"steps\": 5}");
      assertEquals(ToolResult.error("Tool `trigger-long-running-operation` timed out after 3 s and was abandoned."), timeout);
      assertEquals(ToolResult.ok("Echo: still here"), tools.call("echo", "{\"message\": \"still here\"}"));
      assertFalse(tools.resources().isEmpty());
    }
  }

  /** Starts server-everything in {@code mode} on a free port; its output is drained so that it never blocks. */
  static int startEverything(String mode) throws Exception {
    Path bin = TestServers.npmBin("mcp-server-everything");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder(bin.toString(), mode).redirectErrorStream(true);
    pb.environment().put("PORT", Integer.toString(port));
    Process p = pb.start();
    started.add(p);
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String ready = "port " + port;
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        for (String l; (l = out.readLine()) != null; ) {
          if (l.contains(ready)) {
            return l;
          }
        }
        return "exited";
      } catch (Exception e) {
        return e.toString();
      }
    }).get(30, TimeUnit.SECONDS);
    assertTrue(line.contains(ready), line);
    Thread drain = new Thread(() -> out.lines().forEach(l -> {}));
    drain.setDaemon(true);
    drain.start();
    return port;
  }

  @Test
  void everythingOverStreamableHttp() throws Exception {
    int port = startEverything("streamableHttp");
    try (McpToolset tools = McpToolset.builder()
        .streamableHttp("everything", "http://127.0.0.1:" + port + "/mcp")
        .allow("echo", "get-sum")
        .build()) {
      assertEquals(List.of("echo", "get-sum"), tools.tools().stream().map(ToolSpec::name).sorted().toList());
      assertEquals(ToolResult.ok("The sum of 1.5 and 2 is 3.5."), tools.call("get-sum", "{\"a\": 1.5, \"b\": 2}"));
      ToolResult missing = tools.call("echo", "{}");
      assertEquals(ToolResult.error("Invalid arguments for tool `echo`: missing required field `message`. Expected arguments: "
          + tools.tools().stream().filter(t -> t.name().equals("echo")).findFirst().orElseThrow().parameters()), missing);
    }
  }

  @Test
  void everythingOverSse() throws Exception {
    int port = startEverything("sse");
    try (McpToolset tools = McpToolset.builder()
        .sse("everything", "http://127.0.0.1:" + port + "/sse", Map.of())
        .allow("echo", "get-sum")
        .build()) {
      assertEquals(ToolResult.ok("The sum of 20 and 22 is 42."), tools.call("get-sum", "{\"a\": 20, \"b\": 22}"));
      ToolResult typo = tools.call("ecko", "{\"message\": \"hi\"}");
      assertEquals(ToolResult.error("Unknown tool `ecko`. Did you mean `echo`? Available: echo, get-sum."), typo);
    }
  }
}
