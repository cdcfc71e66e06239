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
