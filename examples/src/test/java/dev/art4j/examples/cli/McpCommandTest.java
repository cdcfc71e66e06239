package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.mcp.scenario.ScenarioSet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code art4j mcp ...} and {@code art4j scenarios} in-process, against the bundled math server over HTTP. */
class McpCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static MathServer math;

  @BeforeAll
  static void start() throws Exception {
    math = MathServer.startHttp(0, false);
  }

  @AfterAll
  static void stop() {
    math.close();
  }

  /** Runs the command line and returns what it printed on stdout; fails on a non-zero exit. */
  static String run(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Art4j.run(args);
    } finally {
      System.setOut(saved);
    }
    assertEquals(0, status, "exit status of " + String.join(" ", args));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void listPrintsTheToolsAsJson() throws Exception {
    JsonNode tools = JSON.readTree(run("mcp", "list", "--http", math.url(), "--allow", "add,division"));
    assertEquals(2, tools.size());
    assertEquals("division", tools.get(1).get("name").asText());
    assertEquals("[\"a\",\"b\"]", tools.get(1).at("/parameters/required").toString());
    JsonNode resources = JSON.readTree(run("mcp", "list", "--http", math.url(), "--resources"));
    assertEquals("math://constants", resources.get(0).get("uri").asText());
  }

  @Test
  void callPrintsTextAndIsError() throws Exception {
    JsonNode ok = JSON.readTree(run("mcp", "call", "--http", math.url(), "--tool", "multiply", "--args", "{\"a\": 6, \"b\": 7}"));
    assertEquals("42", ok.get("text").asText());
    assertEquals(false, ok.get("is_error").asBoolean());
    JsonNode typo = JSON.readTree(run("mcp", "call", "--http", math.url(), "--tool", "devide", "--args", "{\"a\": 1, \"b\": 2}"));
    assertTrue(typo.get("is_error").asBoolean());
    assertTrue(typo.get("text").asText().startsWith("Unknown tool `devide`. Did you mean `division`?"), typo.toString());
  }

  @Test
  void listAndCallTheServersOfAnMcpConfigFile(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("mcp.json");
    Files.writeString(config, "{\"mcpServers\": {\"math\": {\"type\": \"http\", \"url\": \"" + math.url()
        + "\", \"allow\": [\"multiply\", \"division\"]}}}");
    JsonNode tools = JSON.readTree(run("mcp", "list", "--mcp-config", config.toString()));
    assertEquals(List.of("multiply", "division"), List.of(tools.get(0).get("name").asText(), tools.get(1).get("name").asText()));
    assertEquals(2, tools.size());
    JsonNode ok = JSON.readTree(run("mcp", "call", "--mcp-config", config.toString(), "--tool", "multiply",
        "--args", "{\"a\": 6, \"b\": 7}"));
    assertEquals("42", ok.get("text").asText());

    Files.writeString(config, "{\"mcpServers\": {\"math\": {\"url\": \"" + math.url() + "\", \"args\": [\"x\"]}}}");
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Art4j.run("mcp", "list", "--mcp-config", config.toString());
    } finally {
      System.setErr(saved);
    }
    assertEquals(2, status);
    assertEquals("art4j mcp list: " + config + ": server \"math\", field \"args\": does not apply to a \"http\" server\n",
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void scenariosWritesTheSynthesisedSet(@TempDir Path dir) throws Exception {
    List<String> bodies = new CopyOnWriteArrayList<>();
    HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.createContext("/v1/chat/completions", exchange -> {
      bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      String content = "{\"scenarios\": [{\"task\": \"What is 15% of 80?\", \"difficulty\": 1},"
          + " {\"task\": \"Average of 4, 8 and 15, squared?\", \"difficulty\": 3}]}";
      ObjectNode reply = JSON.createObjectNode().put("id", "c1").put("object", "chat.completion").put("created", 1).put("model", "m");
      reply.set("choices", JSON.createArrayNode().add(JSON.createObjectNode().put("index", 0).put("finish_reason", "stop")
          .set("message", JSON.createObjectNode().put("role", "assistant").put("content", content))));
      reply.set("usage", JSON.createObjectNode().put("prompt_tokens", 1200).put("completion_tokens", 300).put("total_tokens", 1500));
      String body = reply.toString();
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    api.start();
    try {
      Path out = dir.resolve("scenarios.json");
      PrintStream savedErr = System.err;
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      String printed;
      try {
        printed = run("scenarios", "--http", math.url(), "--allow", "add,percentage,average,power", "--n", "2",
            "--base-url", "http://127.0.0.1:" + api.getAddress().getPort() + "/v1", "--model", "test-model",
            "--api-key-env", "ART4J_TEST_NO_SUCH_VAR", "--out", out.toString(), "--price-in", "2.5", "--price-out", "10");
      } finally {
        System.setErr(savedErr);
      }
      // (1200 * 2.5 + 300 * 10) / 1e6 dollars
      assertTrue(err.toString(StandardCharsets.UTF_8).contains("art4j scenarios: 1 requests, 1200 prompt + 300 completion tokens, $0.006000"),
          err.toString(StandardCharsets.UTF_8));
      ScenarioSet set = ScenarioSet.read(out);
      assertEquals(2, set.size());
      assertEquals("What is 15% of 80?", set.scenarios().get(0).task());
      assertEquals(set.summary() + " -> " + out + "\n", printed);
      assertEquals(1, bodies.size());
      assertEquals("test-model", JSON.readTree(bodies.get(0)).get("model").asText());
      assertTrue(bodies.get(0).contains("percentage"), bodies.get(0));
    } finally {
      api.stop(0);
    }
  }
}
