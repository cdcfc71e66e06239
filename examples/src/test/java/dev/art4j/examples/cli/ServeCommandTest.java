package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code art4j serve} run in-process on the tiny-chat fixture, answered over HTTP. */
class ServeCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void servesChatCompletionsUntilInterrupted() throws Exception {
    Path model = Path.of(System.getProperty("art4j.fixtures")).resolve("models/tiny-chat");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    AtomicInteger status = new AtomicInteger(-1);
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    Thread server = new Thread(() -> status.set(Art4j.run("serve", "--model", model.toString(), "--port", Integer.toString(port),
        "--api-key", "k", "--max-new-tokens", "5")));
    try {
      server.start();
      HttpClient http = HttpClient.newHttpClient();
      URI base = URI.create("http://127.0.0.1:" + port + "/v1");
      HttpResponse<String> models = null;
      for (int i = 0; i < 300 && models == null; i++) {
        try {
          models = http.send(HttpRequest.newBuilder(base.resolve("/v1/models")).header("Authorization", "Bearer k").build(),
              HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException notYet) {
          Thread.sleep(100);
        }
      }
      assertEquals(200, models.statusCode());
      assertEquals("tiny-chat", JSON.readTree(models.body()).get("data").get(0).get("id").asText());
      HttpResponse<String> chat = http.send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
          .header("Authorization", "Bearer k").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"seed\":1}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, chat.statusCode(), chat.body());
      JsonNode body = JSON.readTree(chat.body());
      assertTrue(body.get("usage").get("completion_tokens").asInt() <= 5, "--max-new-tokens is the default length");
      assertEquals("assistant", body.get("choices").get(0).get("message").get("role").asText());
      HttpResponse<String> noKey = http.send(HttpRequest.newBuilder(base.resolve("/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, noKey.statusCode());
    } finally {
      server.interrupt();
      server.join(30_000);
      System.setOut(out);
    }
    assertEquals(0, status.get());
    JsonNode ready = JSON.readTree(captured.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow());
    assertEquals("http://127.0.0.1:" + port + "/v1", ready.get("url").asText());
  }

  @Test
  void aModelWithoutTokenizerIsRefusedClearly() {
    Path model = Path.of(System.getProperty("art4j.fixtures")).resolve("models/tiny-qwen2");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Art4j.run("serve", "--model", model.toString(), "--port", "0");
    } finally {
      System.setErr(saved);
    }
    assertEquals(2, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("has no tokenizer.json"), err.toString(StandardCharsets.UTF_8));
  }
}
