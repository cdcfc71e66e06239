package dev.art4j.rollout.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.TestKit;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server under abuse and under many streaming clients, over real sockets on 127.0.0.1 with
 * the real engine on the tiny-chat fixture: disconnects, half-sent and oversized bodies, streams.
 */
class ServerLimitsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static TestKit.TinyChat tiny;
  static OpenAiServer server;

  @BeforeAll
  static void start() throws Exception {
    tiny = TestKit.TinyChat.load(11);
    server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").maxBodyBytes(1 << 20)
        .idleTimeoutMillis(5_000).start();
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

  static HttpResponse<String> post(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A short chat request answered within {@code millis}. */
  static void probe(long millis) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"probe\"}],\"max_tokens\":2}");
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(took < millis, "probe answered in " + took + " ms");
  }

  @Test
  void unknownModelIs404AndTrailingGarbageIs400() throws Exception {
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(404, r.statusCode());
    assertEquals("model_not_found", JSON.readTree(r.body()).get("error").get("code").asText());
    assertEquals(400, post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}{}").statusCode());
    assertEquals(404, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/models/gpt-9")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void anOversizedBodyIs413WithoutReadingItAll() throws Exception {
    // declared length over the limit: refused before a byte of the body is read
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 52428800\r\n\r\n{\"messages\": [").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertEquals("HTTP/1.1 413 Payload Too Large", status);
    }
    // chunked, no declared length: refused once the limit is passed, 50 MB sent at most
    long before = usedHeap();
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] block = new byte[64 * 1024];
      java.util.Arrays.fill(block, (byte) ' ');
      String header = Integer.toHexString(block.length) + "\r\n";
      long sent = 0;
      try {
        while (sent < 50L << 20) {
          out.write(header.getBytes(StandardCharsets.US_ASCII));
          out.write(block);
          out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          sent += block.length;
        }
      } catch (java.io.IOException closedByServer) {
        // the server answered and closed the connection: expected once over the limit
      }
      String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertEquals("HTTP/1.1 413 Payload Too Large", status);
    }
    assertTrue(usedHeap() - before < 100L << 20, "heap grew by " + (usedHeap() - before));
    probe(5_000);
  }

  @Test
  void halfSentBodiesDoNotBlockOtherClients() throws Exception {
    List<Socket> stuck = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        Socket s = new Socket("127.0.0.1", server.port());
        s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: 1000\r\n\r\n{\"messages\": [").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        stuck.add(s);
      }
      probe(5_000);
    } finally {
      for (Socket s : stuck) {
        s.close();
      }
    }
  }

  @Test
  void clientsThatLeaveMidStreamAreCancelledAndNotRecorded() throws Exception {
    int before = server.trajectories().size();
    long cancelledBefore = server.metrics.cancelled.get();
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Socket s = new Socket("127.0.0.1", server.port());
      String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"leave " + i + "\"}],\"max_tokens\":3000,\"stream\":true,"
          + "\"ignore_eos\":true}";
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(b);
      s.getOutputStream().flush();
      sockets.add(s);
    }
    // wait until the first ones stream, then everybody leaves
    InputStream in = sockets.get(0).getInputStream();
    byte[] buf = new byte[256];
    assertTrue(in.read(buf) > 0);
    for (Socket s : sockets) {
      s.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (server.running() + server.waiting() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(0, server.running() + server.waiting(), "every abandoned request ended");
    probe(1_000);
    // The tiny model can finish a 3000-token stream into the socket buffer before its client has
    // left; such an answer is whole and may be kept. An abandoned (partial) one never is.
    List<Trajectory> kept = server.trajectories().subList(before, server.trajectories().size());
    long finishedFirst = 0;
    for (Trajectory t : kept) {
      if (t.messages().get(0).content().startsWith("leave")) {
        assertEquals(3000, t.turns().get(0).sampledIds().length, "a kept conversation of a client that left is whole");
        finishedFirst++;
      }
    }
    assertEquals(finishedFirst + 1, kept.size(), "the probe's conversation is kept too");
    assertTrue(server.metrics.cancelled.get() - cancelledBefore >= 100 - finishedFirst,
        "cancelled: " + (server.metrics.cancelled.get() - cancelledBefore) + ", finished first: " + finishedFirst);
    assertTrue(finishedFirst < 50, "most of the clients left before their answers were done: " + finishedFirst);
    assertTrue(tiny.engine().kvUsage() < 0.5, "the abandoned requests' cache was freed: " + tiny.engine().kvUsage());
  }

  @Test
  void thirtyTwoConcurrentLangchain4jStreamsAllComplete() throws Exception {
    OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(server.baseUrl().toString()).apiKey("none")
        .modelName("tiny-chat").maxTokens(24).temperature(1.0).build();
    List<CompletableFuture<ChatResponse>> done = new ArrayList<>();
    List<StringBuilder> pieces = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      CompletableFuture<ChatResponse> f = new CompletableFuture<>();
      StringBuilder sb = new StringBuilder();
      pieces.add(sb);
      done.add(f);
      model.chat(List.of(UserMessage.from("stream " + i)), new StreamingChatResponseHandler() {
        @Override
        public void onPartialResponse(String partial) {
          synchronized (sb) {
            sb.append(partial);
          }
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
          f.complete(response);
        }

        @Override
        public void onError(Throwable error) {
          f.completeExceptionally(error);
        }
      });
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 32; i++) {
      ChatResponse r = done.get(i).get(120, TimeUnit.SECONDS);
      ids.add(r.id());
      assertEquals(pieces.get(i).toString(), r.aiMessage().text() == null ? "" : r.aiMessage().text(), "the pieces make the reply");
      assertTrue(r.tokenUsage() == null || r.tokenUsage().outputTokenCount() <= 24);
      JsonNode kept = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/trajectories/" + r.id())).build(),
          HttpResponse.BodyHandlers.ofString()).body());
      assertEquals("stream " + i, kept.get("trajectories").get(0).get("messages").get(0).get("content").asText());
    }
    assertEquals(32, ids.size(), "distinct ids");
  }

  static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    System.gc();
    return rt.totalMemory() - rt.freeMemory();
  }
}
