package dev.art4j.rollout.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.engine.InferenceEngine;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** vLLM's control surface and the raw completions API over HTTP, with the real engine on the tiny-chat fixture. */
class ServerEndpointsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static TestKit.TinyChat tiny;
  static OpenAiServer server;

  @BeforeAll
  static void start() throws Exception {
    tiny = TestKit.TinyChat.load(31);
    server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (tiny != null) {
      tiny.close();
    }
  }

  static HttpResponse<String> post(OpenAiServer s, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static int[] ids(JsonNode tokens) {
    int[] out = new int[tokens.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Integer.parseInt(tokens.get(i).asText().substring("token_id:".length()));
    }
    return out;
  }

  @Test
  void loraAdaptersLoadChosenByModelAndUnload(@TempDir Path dir) throws Exception {
    Path folder = dir.resolve("adapter");
    try (NDManager m = NDManager.newBaseManager();
        Lora lora = Lora.create(tiny.policy().model().config(), new LoraConfig(4, 8, 0.0), 5, m)) {
      for (NDArray p : lora.parameters()) {
        p.addi(m.randomNormal(0, 0.2f, p.getShape(), p.getDataType())); // B starts at zero: make the adapter matter
      }
      lora.save(folder);
      String load = "{\"lora_name\":\"sql\",\"lora_path\":\"" + folder + "\"}";
      assertEquals(200, post(server, "/v1/load_lora_adapter", load).statusCode());
      JsonNode again = JSON.readTree(post(server, "/v1/load_lora_adapter", load).body());
      assertEquals("lora_name", again.get("error").get("param").asText());
      JsonNode models = JSON.readTree(get("/v1/models").body()).get("data");
      assertEquals(2, models.size());
      assertEquals("sql", models.get(1).get("id").asText());
      assertEquals("tiny-chat", models.get(1).get("parent").asText());

      int[] prompt = {3, 14, 15, 92, 65};
      String body = "{\"prompt\":[3,14,15,92,65],\"max_tokens\":6,\"temperature\":0,\"logprobs\":0,\"ignore_eos\":true,"
          + "\"return_tokens_as_token_ids\":true,\"model\":\"%s\"}";
      JsonNode adapted = ok(post(server, "/v1/completions", body.formatted("sql"))).get("choices").get(0).get("logprobs");
      JsonNode plain = ok(post(server, "/v1/completions", body.formatted("tiny-chat"))).get("choices").get(0).get("logprobs");
      int[] a = ids(adapted.get("tokens"));
      int[] b = ids(plain.get("tokens"));
      float[] refA = TestKit.logprobs(tiny.policy().model(), lora, prompt, a, 1.0);
      float[] refB = TestKit.logprobs(tiny.policy().model(), null, prompt, b, 1.0);
      for (int i = 0; i < 6; i++) {
        assertEquals(refA[i], adapted.get("token_logprobs").get(i).floatValue(), 1e-3, "adapter token " + i);
        assertEquals(refB[i], plain.get("token_logprobs").get(i).floatValue(), 1e-3, "base token " + i);
      }
      float[] baseOnAdapted = TestKit.logprobs(tiny.policy().model(), null, prompt, a, 1.0);
      assertNotEquals(refA[0], baseOnAdapted[0], 1e-3f, "the adapter changes the distribution");

      assertEquals(200, post(server, "/v1/unload_lora_adapter", "{\"lora_name\":\"sql\"}").statusCode());
      assertEquals(404, post(server, "/v1/unload_lora_adapter", "{\"lora_name\":\"sql\"}").statusCode());
      HttpResponse<String> gone = post(server, "/v1/completions", body.formatted("sql"));
      assertEquals(404, gone.statusCode());
      assertEquals("model_not_found", JSON.readTree(gone.body()).get("error").get("code").asText());
    }
  }

  @Test
  void completionsStopStringsAndTheControlSurface() throws Exception {
    String base = "{\"prompt\":\"Once upon a time\",\"max_tokens\":16,\"temperature\":0,\"ignore_eos\":true";
    String text = ok(post(server, "/v1/completions", base + "}")).get("choices").get(0).get("text").asText();
    assertTrue(text.length() >= 6, text);
    String stop = text.substring(3, 5);
    int at = text.indexOf(stop);
    String quoted = JSON.writeValueAsString(stop);
    JsonNode cut = ok(post(server, "/v1/completions", base + ",\"stop\":[" + quoted + "]}")).get("choices").get(0);
    assertEquals(text.substring(0, at), cut.get("text").asText());
    assertEquals("stop", cut.get("finish_reason").asText());
    assertEquals(stop, cut.get("stop_reason").asText());
    JsonNode kept = ok(post(server, "/v1/completions", base + ",\"stop\":[" + quoted + "],\"include_stop_str_in_output\":true}"))
        .get("choices").get(0);
    assertEquals(text.substring(0, at) + stop, kept.get("text").asText());

    assertEquals(200, get("/health").statusCode());
    assertEquals(200, get("/ping").statusCode());
    assertEquals(OpenAiServer.VERSION, JSON.readTree(get("/version").body()).get("version").asText());
    JsonNode tok = ok(post(server, "/tokenize", "{\"prompt\":\"hello world\"}"));
    assertEquals(tok.get("tokens").size(), tok.get("count").asInt());
    JsonNode detok = ok(post(server, "/detokenize", "{\"tokens\":" + tok.get("tokens") + "}"));
    assertEquals("hello world", detok.get("prompt").asText());
    String metrics = get("/metrics").body();
    assertTrue(metrics.contains("# TYPE art4j_requests_running gauge"), metrics);
    assertTrue(metrics.matches("(?s).*\\nart4j_kv_cache_usage [0-9.e-]+\\n.*"), metrics);
    assertTrue(metrics.matches("(?s).*\\nart4j_generation_tokens_total [1-9][0-9]*\\n.*"), metrics);

    JsonNode tooLong = JSON.readTree(post(server, "/v1/completions", "{\"prompt\":[1,2,3],\"max_tokens\":2147483647}").body());
    assertEquals("max_tokens", tooLong.get("error").get("param").asText());
    assertTrue(tooLong.get("error").get("message").asText().contains("maximum context length is 4096"));
  }

  @Test
  void plainRepliesComeBackExactlyAsSampled() throws Exception {
    TestKit.ScriptedSource source = new TestKit.ScriptedSource(tiny.format(), tiny.policy().model(), null, tiny.engine(),
        List.of("\n\n  \n"));
    try (OpenAiServer s = OpenAiServer.builder(source, tiny.format()).port(0).modelName("tiny-chat").start()) {
      JsonNode r = ok(post(s, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
      assertEquals("\n\n  \n", r.get("choices").get(0).get("message").get("content").asText());
    }
  }

  @Test
  void aFullQueueIs429() throws Exception {
    try (OpenAiServer s = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").threads(1).maxQueue(1)
        .start()) {
      List<CompletableFuture<HttpResponse<String>>> long_ = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        long_.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"long " + i + "\"}],\"max_tokens\":300,\"ignore_eos\":true}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (s.running() + s.waiting() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      // one running, one waiting: the queue is full
      HttpResponse<String> busy = post(s, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
      assertEquals(429, busy.statusCode(), busy.body());
      assertEquals("rate_limit_exceeded", JSON.readTree(busy.body()).get("error").get("code").asText());
      for (CompletableFuture<HttpResponse<String>> f : long_) {
        assertEquals(200, f.get(120, TimeUnit.SECONDS).statusCode(), "the queued requests are still answered");
      }
      assertEquals(1, s.metrics.rejected.get());
    }
  }

  @Test
  void clientsThatLeaveAWholeRequestAreCancelledAndNotRecorded() throws Exception {
    // the requests carry a stop string: every step pays a millisecond per row, so that no request
    // can finish before the server finds its client gone (engineSlowOnStopStrings)
    try (InferenceEngine slow = tiny.engineSlowOnStopStrings(31);
        OpenAiServer s = OpenAiServer.builder(slow, tiny.format()).port(0).modelName("tiny-chat").start()) {
      List<Socket> sockets = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // eight choices of 3000 tokens each (the context is 4096)
        byte[] b = ("{\"messages\":[{\"role\":\"user\",\"content\":\"leave " + i + "\"}],\"max_tokens\":3000,\"n\":8,"
            + "\"ignore_eos\":true,\"stop\":[\"never in this text\"]}")
            .getBytes(StandardCharsets.UTF_8);
        Socket sock = new Socket("127.0.0.1", s.port());
        sock.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        sock.getOutputStream().write(b);
        sock.getOutputStream().flush();
        sockets.add(sock);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (s.running() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      for (Socket sock : sockets) {
        sock.close();
      }
      long t0 = System.nanoTime();
      deadline = t0 + TimeUnit.SECONDS.toNanos(60);
      while (s.running() + s.waiting() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(3, s.metrics.cancelled.get(), "every request whose client left was cancelled");
      assertEquals(0, s.metrics.succeeded.get());
      assertTrue(s.trajectories().isEmpty(), "nothing abandoned is recorded");
      // a long answer still arrives whole, after its keep-alive whitespace
      JsonNode r = ok(post(s, "/v1/chat/completions",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"stay\"}],\"max_tokens\":1500,\"ignore_eos\":true}"));
      assertEquals(1500, r.get("usage").get("completion_tokens").asInt());
      assertEquals(1, s.trajectories().size());
    }
  }
}
