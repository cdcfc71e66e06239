package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mcpServers} files with the real servers: the bundled one, calc-mcp and server-everything. */
class McpConfigTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "sk-test-0123456789abcdef";

  @TempDir
  Path dir;

  @AfterAll
  static void stop() {
    ThirdPartyServersTest.stop();
  }

  private Path write(Object config) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, JSON.writeValueAsString(config));
    return file;
  }

  @Test
  void stdioAndHttpServersFromOneFileWithPerServerAllowLists() throws Exception {
    Path calc = TestServers.npmBin("calc-mcp");
    int port = ThirdPartyServersTest.startEverything("streamableHttp");
    List<String> math = TestServers.mathServerCommand(false);
    Map<String, Object> servers = new LinkedHashMap<>();
    servers.put("math", Map.of("command", math.get(0), "args", math.subList(1, math.size()), "allow", List.of("add", "division")));
    servers.put("calc", Map.of("command", calc.toString(), "env", Map.of("TZ", "${CALC_TZ:-UTC}"), "allow", List.of("math")));
    servers.put("everything", Map.of("type", "http", "url", "http://127.0.0.1:${EVERYTHING_PORT}/mcp",
        "headers", Map.of("Authorization", "Bearer ${API_TOKEN}"), "allow", List.of("echo", "get-sum")));
    Path file = write(Map.of("mcpServers", servers));
    Map<String, String> env = Map.of("EVERYTHING_PORT", Integer.toString(port), "API_TOKEN", SECRET);
    try (McpToolset tools = McpToolset.builder().config(file, env).build()) {
      assertEquals(List.of("math", "calc", "everything"), tools.servers());
      assertEquals(List.of("add", "division", "math", "echo", "get-sum"), tools.tools().stream().map(ToolSpec::name).toList());
      assertEquals(ToolResult.ok("3.5"), tools.call("division", "{\"a\": 7, \"b\": 2}"));
      assertTrue(tools.call("math", "{\"expression\": \"6 * 7\"}").text().contains("42"));
      assertEquals(ToolResult.ok("The sum of 2 and 40 is 42."), tools.call("get-sum", "{\"a\": 2, \"b\": 40}"));
      // hidden by the math server's allow-list
      assertTrue(tools.call("multiply", "{\"a\": 2, \"b\": 3}").text().startsWith("Unknown tool `multiply`."));
      assertFalse(tools.connection("everything").config().toString().contains(SECRET),
          tools.connection("everything").config().toString());
    }
  }

  @Test
  void envAndCwdReachTheStdioProcess() throws Exception {
    Path bin = TestServers.npmBin("mcp-server-everything");
    Path dist = bin.toRealPath().getParent();
    // a relative script: the server starts only if cwd is applied
    Path file = write(Map.of("mcpServers", Map.of("everything", Map.of(
        "command", "node", "args", List.of("index.js", "stdio"), "cwd", "${EVERYTHING_DIST}",
        "env", Map.of("ART4J_TEST_TOKEN", "${env:API_TOKEN}", "ART4J_TEST_PLAIN", "${ART4J_UNSET:-plain-default}",
            "ART4J_TEST_NUMBER", 7), "allow", List.of("get-env")))));
    Map<String, String> env = Map.of("EVERYTHING_DIST", dist.toString(), "API_TOKEN", SECRET);
    try (McpToolset tools = McpToolset.builder().config(file, env).build()) {
      String printed = tools.call("get-env", "{}").text();
      // the server got the value; what comes back (to the model and the run store) shows the variable instead
      assertTrue(printed.contains("\"ART4J_TEST_TOKEN\": \"${API_TOKEN}\""), printed);
      assertFalse(printed.contains(SECRET), printed);
      assertTrue(printed.contains("\"ART4J_TEST_PLAIN\": \"plain-default\""), printed);
      assertTrue(printed.contains("\"ART4J_TEST_NUMBER\": \"7\""), printed);
    }
  }

  @Test
  void aServerThatCannotBeRestartedShowsTheVariableNotTheSecret() throws Exception {
    Path dist = TestServers.npmBin("mcp-server-everything").toRealPath().getParent();
    Path script = dir.resolve("server.sh");
    Files.writeString(script, "#!/bin/sh\necho \"starting with key $2\" >&2\nexec node " + dist.resolve("index.js") + " stdio\n");
    assertTrue(script.toFile().setExecutable(true));
    Path file = write(Map.of("mcpServers", Map.of("srv", Map.of(
        "command", script.toString(), "args", List.of("--key", "${API_TOKEN}"), "allow", List.of("echo")))));
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    ToolResult r;
    try (McpToolset tools = McpToolset.builder().config(file, Map.of("API_TOKEN", SECRET)).build()) {
      assertEquals(ToolResult.ok("Echo: hi"), tools.call("echo", "{\"message\": \"hi\"}"));
      ProcessHandle server = ProcessHandle.of(tools.connection("srv").pid()).orElseThrow();
      server.destroyForcibly();
      server.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      Files.delete(script);
      r = tools.call("echo", "{\"message\": \"again\"}");
    } finally {
      System.setErr(err);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertTrue(r.isError() && r.text().contains("server.sh --key ${API_TOKEN}"), r.text());
    assertFalse(r.text().contains(SECRET), r.text());
    assertTrue(logs.contains("starting with key ${API_TOKEN}"), "the server's stderr is logged, scrubbed: " + logs);
    assertFalse(logs.contains(SECRET), logs);
  }

  @Test
  void aValueFromTheEnvironmentNeverAppearsInErrorsOrLogs() throws Exception {
    // a program that does not exist: the error quotes the command line, key and all
    Path file = write(Map.of("mcpServers", Map.of("remote", Map.of(
        "command", dir.resolve("no-such-server").toString(), "args", List.of("--key", "${API_TOKEN}")))));
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    RuntimeException e;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      e = assertThrows(RuntimeException.class, () -> McpToolset.builder().config(file, Map.of("API_TOKEN", SECRET))
          .listTimeout(Duration.ofSeconds(5)).build());
    } finally {
      System.setErr(err);
    }
    StringBuilder chain = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      chain.append(t).append('\n');
    }
    assertFalse(chain.toString().contains(SECRET), chain.toString());
    assertFalse(captured.toString(StandardCharsets.UTF_8).contains(SECRET));
    assertTrue(chain.toString().contains("no-such-server --key ${API_TOKEN}"), chain.toString());
  }

  @Test
  void badEntriesNameTheServerAndField() throws Exception {
    assertBad(Map.of("mcpServers", Map.of("calc", Map.of("command", "npx", "args", "-y calc"))),
        "server \"calc\", field \"args\": must be an array of strings, got string");
    assertBad(Map.of("mcpServers", Map.of("calc", Map.of("command", "npx", "args", List.of("-y", 3)))),
        "server \"calc\", field \"args[1]\": must be a string, got number");
    assertBad(Map.of("mcpServers", Map.of("remote", Map.of("url", "http://h/mcp", "headers", Map.of("A", "${NOPE}")))),
        "server \"remote\", field \"headers.A\": environment variable NOPE is not set");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "url", "http://h"))),
        "server \"x\": has both \"command\" and \"url\"");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("env", Map.of()))),
        "server \"x\": needs \"command\" (a stdio server) or \"url\" (an HTTP server)");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("type", "websocket", "url", "ws://h"))),
        "server \"x\", field \"type\": must be \"stdio\", \"http\" or \"sse\", got \"websocket\"");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("type", "sse", "url", "ftp://h"))),
        "server \"x\", field \"url\": must start with http:// or https://, got ftp://h");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "headers", Map.of()))),
        "server \"x\", field \"headers\": does not apply to a \"stdio\" server");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "env", Map.of("K", Map.of())))),
        "server \"x\", field \"env.K\": must be a string, got object");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "cwd", "no/such/folder"))),
        "server \"x\", field \"cwd\": is not a folder");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "allow", List.of()))),
        "server \"x\", field \"allow\": is empty");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "args", List.of("${BROKEN")))),
        "server \"x\", field \"args[0]\": has a malformed ${...} reference");
    assertBad(Map.of("mcpServers", Map.of("x", Map.of("command", "a", "disabled", true))),
        "\"mcpServers\" has no enabled server");
    assertBad(Map.of("servers", List.of()), "\"servers\" must be an object of servers by name, got array");
    assertBad(Map.of("tools", Map.of()), "no \"mcpServers\" object (fields: tools)");
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "{\"mcpServers\": {\"x\": ");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> McpToolset.fromConfig(file));
    assertTrue(e.getMessage().startsWith(file + ": not valid JSON"), e.getMessage());
  }

  @Test
  void anAllowListNamingAToolTheServerLacksFailsNamingTheServer() throws Exception {
    List<String> math = TestServers.mathServerCommand(false);
    Path file = write(Map.of("servers", Map.of("math", Map.of("type", "stdio", "command", math.get(0),
        "args", math.subList(1, math.size()), "allow", List.of("add", "devide"), "autoApprove", List.of("add")))));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> McpToolset.builder().config(file, Map.of()).build());
    assertTrue(e.getMessage().startsWith("MCP server `math`: allow-list names tools it does not offer: [devide]; it offers: add,"),
        e.getMessage());
  }

  private void assertBad(Object config, String expected) throws Exception {
    Path file = write(config);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> McpToolset.builder().config(file, Map.of()));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage() + "\n  expected: " + expected);
  }
}
