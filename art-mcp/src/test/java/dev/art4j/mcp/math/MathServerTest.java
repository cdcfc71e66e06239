package dev.art4j.mcp.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.mcp.toolset.TestServers;
import dev.langchain4j.mcp.client.DefaultMcpClient;
import dev.langchain4j.mcp.client.McpGetPromptResult;
import dev.langchain4j.mcp.client.McpPrompt;
import dev.langchain4j.mcp.client.McpTextContent;
import dev.langchain4j.mcp.client.transport.http.StreamableHttpMcpTransport;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MathServerTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void stdioWritesOnlyProtocolMessagesAndExitsWhenStdinCloses() throws Exception {
    Process p = new ProcessBuilder(TestServers.mathServerCommand(false)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(String.join("\n",
          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
              + "\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}",
          "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
          "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"sqrt\",\"arguments\":{\"x\":-4}}}",
          "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"percentage\",\"arguments\":{\"value\":80,\"percent\":15}}}",
          "").getBytes(StandardCharsets.UTF_8));
      // stdin closes right away: requests already sent must still be answered
    }
    assertTrue(p.waitFor(20, TimeUnit.SECONDS), "server did not exit after stdin closed");
    assertEquals(0, p.exitValue());
    List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertEquals(3, lines.size(), lines.toString());
    // answers may come in any order: index them by id
    Map<Integer, JsonNode> byId = new java.util.HashMap<>();
    for (String line : lines) {
      JsonNode message = JSON.readTree(line);
      assertEquals("2.0", message.get("jsonrpc").asText(), line);
      byId.put(message.get("id").asInt(), message.get("result"));
    }
    assertEquals("art4j-math", byId.get(1).at("/serverInfo/name").asText());
    assertTrue(byId.get(2).get("isError").asBoolean());
    assertEquals("Square root of a negative number: argument `x` is -4.", byId.get(2).at("/content/0/text").asText());
    assertEquals("12", byId.get(3).at("/content/0/text").asText());
  }

  /**
   * SDK 2.1.0's stdio transport drops a response ("Failed to enqueue message") when two tool
   * calls finish at the same moment on different threads, and the client then waits for it
   * forever; a training step's rollouts call the server in parallel all the time. Many 5 ms sleeps
   * on the server's worker threads make such collisions frequent (without the fix, 2000 calls lost
   * answers in 6 of 6 runs here).
   */
  @Test
  void stdioAnswersEveryOneOfManyConcurrentCalls() throws Exception {
    int calls = 2000;
    Process p = new ProcessBuilder(TestServers.mathServerCommand(true)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    StringBuilder requests = new StringBuilder()
        .append("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",")
        .append("\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}\n")
        .append("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    for (int i = 1; i <= calls; i++) {
      requests.append("{\"jsonrpc\":\"2.0\",\"id\":").append(i)
          .append(",\"method\":\"tools/call\",\"params\":{\"name\":\"sleep\",\"arguments\":{\"seconds\":0.005}}}\n");
    }
    try (OutputStream in = p.getOutputStream()) {
      in.write(requests.toString().getBytes(StandardCharsets.UTF_8));
    }
    java.util.concurrent.CompletableFuture<byte[]> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return p.getInputStream().readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    // a server that lost an answer waits for it and never exits
    boolean exited = p.waitFor(60, TimeUnit.SECONDS);
    p.destroyForcibly();
    List<String> lines = new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8).lines().toList();
    assertTrue(exited, "server still waiting after answering " + (lines.size() - 1) + " of " + calls + " calls");
    Map<Integer, String> answers = new java.util.HashMap<>();
    for (String line : lines) {
      JsonNode message = JSON.readTree(line);
      if (message.get("id").asInt() > 0) {
        answers.put(message.get("id").asInt(), message.at("/result/content/0/text").asText());
      }
    }
    assertEquals(calls, answers.size(), "answered " + answers.size() + " of " + calls + " calls");
    for (int i = 1; i <= calls; i++) {
      assertEquals("slept 0.005 s", answers.get(i), "call " + i);
    }
  }

  @Test
  void promptOverHttp() throws Exception {
    try (MathServer server = MathServer.startHttp(0, false);
        DefaultMcpClient client = new DefaultMcpClient.Builder()
            .transport(StreamableHttpMcpTransport.builder().url(server.url()).build()).build()) {
      assertTrue(server.url().startsWith("http://127.0.0.1:"));
      List<McpPrompt> prompts = client.listPrompts();
      assertEquals(List.of("solve_word_problem"), prompts.stream().map(McpPrompt::name).toList());
      McpGetPromptResult result = client.getPrompt("solve_word_problem", Map.of("problem", "Tom has 3 apples."));
      String text = ((McpTextContent) result.messages().get(0).content()).text();
      assertTrue(text.startsWith("Solve this problem step by step."), text);
      assertTrue(text.endsWith("Tom has 3 apples."), text);
    }
  }

  @Test
  void formatsWholeNumbersWithoutAFraction() {
    assertEquals("12", MathTools.format(12.0));
    assertEquals("-0.25", MathTools.format(-0.25));
    assertEquals("1.0E15".equals(MathTools.format(1e15)) ? "1.0E15" : "1000000000000000", MathTools.format(1e15));
  }
}
