package dev.art4j.core.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.SocketEffect;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HubClient} against MockWebServer playing the Hugging Face Hub. */
class HubClientTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  @TempDir Path cache;
  private MockWebServer server;
  private final List<RecordedRequest> requests = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HubClient client(String token, PrintStream progress) {
    return HubClient.builder().endpoint(server.url("/").toString()).cacheDir(cache).token(token)
        .progress(progress).maxAttempts(3).build();
  }

  @Test
  void resolvesModelAndDatasetFromTheStandardCacheLayout() throws IOException {
    Path repo = cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct");
    Path snap = repo.resolve("snapshots").resolve(SHA);
    Files.createDirectories(snap);
    Files.writeString(snap.resolve("config.json"), "{}");
    // a stale snapshot beside it: refs/main must decide
    Files.createDirectories(repo.resolve("snapshots").resolve("f".repeat(40)));
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), SHA + "\n");
    Path ds = cache.resolve("datasets--openai--gsm8k").resolve("snapshots").resolve(SHA);
    Files.createDirectories(ds);

    HubClient hub = client(null, null);
    assertEquals(snap, hub.resolveModel("Qwen/Qwen2.5-0.5B-Instruct"));
    assertEquals(ds, hub.resolveDataset("openai/gsm8k"), "one snapshot and no refs: that snapshot");
    HubException miss = assertThrows(HubException.class, () -> hub.resolveModel("Qwen/Qwen3-0.6B"));
    assertTrue(miss.getMessage().contains("models--Qwen--Qwen3-0.6B"), miss.getMessage());
    assertTrue(miss.getMessage().contains("--download"), miss.getMessage());
    assertThrows(IllegalArgumentException.class, () -> hub.resolveModel("../etc"));
    assertEquals(0, server.getRequestCount(), "resolving the cache never touches the network");
  }

  @Test
  void downloadsIntoTheCacheLayoutResumingAfterACutWithoutLoggingTheToken() throws Exception {
    byte[] weights = new byte[300_000];
    new Random(7).nextBytes(weights);
    byte[] config = "{\"model_type\":\"qwen2\"}".getBytes(StandardCharsets.UTF_8);
    AtomicBoolean cutOnce = new AtomicBoolean(true);
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest r) {
        requests.add(r);
        String path = r.getUrl().encodedPath();
        if (path.equals("/api/models/Org/Tiny/revision/main")) {
          return json(200, "{\"sha\":\"" + SHA + "\",\"siblings\":[{\"rfilename\":\"config.json\"},"
              + "{\"rfilename\":\"model.safetensors\"},{\"rfilename\":\"README.md\"}]}");
        }
        if (path.equals("/Org/Tiny/resolve/" + SHA + "/config.json")) {
          return new MockResponse.Builder().code(200).body(new okio.Buffer().write(config)).build();
        }
        if (path.equals("/Org/Tiny/resolve/" + SHA + "/model.safetensors")) {
          String range = r.getHeaders().get("Range");
          if (range == null && cutOnce.getAndSet(false)) {
            // the socket closes halfway through the body: a dropped connection mid-download
            return new MockResponse.Builder().code(200).body(new okio.Buffer().write(weights))
                .onResponseBody(new SocketEffect.CloseSocket()).build();
          }
          int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
          byte[] rest = java.util.Arrays.copyOfRange(weights, from, weights.length);
          return new MockResponse.Builder().code(range == null ? 200 : 206)
              .setHeader("Content-Range", "bytes " + from + "-" + (weights.length - 1) + "/" + weights.length)
              .body(new okio.Buffer().write(rest)).build();
        }
        return json(404, "{\"error\":\"Entry not found\"}");
      }
    });
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    HubClient hub = client("hf_secret_token", new PrintStream(err, true, StandardCharsets.UTF_8));

    Path snap = hub.download("Org/Tiny", RepoType.MODEL, "main", List.of("*.json", "*.safetensors"));

    assertEquals(cache.resolve("models--Org--Tiny/snapshots/" + SHA), snap);
    assertArrayEquals(config, Files.readAllBytes(snap.resolve("config.json")));
    assertArrayEquals(weights, Files.readAllBytes(snap.resolve("model.safetensors")));
    assertFalse(Files.exists(snap.resolve("README.md")), "the patterns exclude README.md");
    assertFalse(Files.exists(snap.resolve("model.safetensors.incomplete")));
    assertEquals(SHA, Files.readString(cache.resolve("models--Org--Tiny/refs/main")));
    assertEquals(snap, hub.resolveModel("Org/Tiny"));

    List<RecordedRequest> weightCalls = requests.stream()
        .filter(r -> r.getUrl().encodedPath().endsWith("model.safetensors")).toList();
    assertEquals(2, weightCalls.size(), "one cut request, one resumed request");
    String range = weightCalls.get(1).getHeaders().get("Range");
    int resumedAt = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
    assertTrue(resumedAt > 0 && resumedAt < weights.length, "resumed from the bytes already on disk: " + range);
    for (RecordedRequest r : requests) {
      assertEquals("Bearer hf_secret_token", r.getHeaders().get("Authorization"));
    }
    String progress = err.toString(StandardCharsets.UTF_8);
    assertTrue(progress.contains("Org/Tiny/model.safetensors"), progress);
    assertFalse(progress.contains("hf_secret_token"), "the token is never printed");

    // a second download finds every file and fetches only the metadata again
    int before = server.getRequestCount();
    hub.download("Org/Tiny", RepoType.MODEL, "main", List.of("*.json", "*.safetensors"));
    assertEquals(before + 1, server.getRequestCount());
  }

  @Test
  void unauthorizedAndMissingReposGiveClearErrors() {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest r) {
        String path = r.getUrl().encodedPath();
        if (path.startsWith("/api/models/meta-llama/")) {
          return json(401, "{\"error\":\"Access to model meta-llama/Llama-3.2-1B is restricted.\"}");
        }
        if (path.startsWith("/api/datasets/")) {
          return json(404, "{\"error\":\"Repository not found\"}");
        }
        return json(500, "{}");
      }
    });
    HubClient anon = client(null, null);
    HubException e401 = assertThrows(HubException.class,
        () -> anon.download("meta-llama/Llama-3.2-1B", RepoType.MODEL, "main", List.of()));
    assertEquals(401, e401.status());
    assertTrue(e401.getMessage().contains("HF_TOKEN"), e401.getMessage());
    assertTrue(e401.getMessage().contains("restricted"), "keeps the Hub's reason: " + e401.getMessage());

    HubClient withToken = client("hf_bad", null);
    HubException e401b = assertThrows(HubException.class,
        () -> withToken.download("meta-llama/Llama-3.2-1B", RepoType.MODEL, "main", List.of()));
    assertTrue(e401b.getMessage().contains("refused"), e401b.getMessage());
    assertFalse(e401b.getMessage().contains("hf_bad"), "the token is never in a message");

    HubException e404 = assertThrows(HubException.class,
        () -> anon.download("nobody/nothing", RepoType.DATASET, "main", List.of()));
    assertEquals(404, e404.status());
    assertTrue(e404.getMessage().contains("dataset 'nobody/nothing' does not exist"), e404.getMessage());
    assertFalse(Files.exists(cache.resolve("datasets--nobody--nothing")), "nothing written on failure");
  }

  @Test
  void uploadSendsSmallFilesInlineAndLargeOnesThroughLfs(@TempDir Path adapter) throws Exception {
    Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":8}");
    byte[] weights = new byte[4096];
    new Random(3).nextBytes(weights);
    Files.write(adapter.resolve("adapter_model.safetensors"), weights);
    String oid = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights));
    String putUrl = server.url("/lfs-put/" + oid).toString();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest r) {
        requests.add(r);
        String path = r.getUrl().encodedPath();
        return switch (path) {
          case "/api/models/me/my-adapter/preupload/main" -> json(200,
              "{\"files\":[{\"path\":\"adapter_config.json\",\"uploadMode\":\"regular\"},"
                  + "{\"path\":\"adapter_model.safetensors\",\"uploadMode\":\"lfs\"}]}");
          case "/me/my-adapter.git/info/lfs/objects/batch" -> json(200,
              "{\"objects\":[{\"oid\":\"" + oid + "\",\"size\":4096,\"actions\":{\"upload\":{\"href\":\"" + putUrl + "\"}}}]}");
          case "/api/models/me/my-adapter/commit/main" -> json(200,
              "{\"commitUrl\":\"https://huggingface.co/me/my-adapter/commit/abc\",\"commitOid\":\"abc\"}");
          default -> path.startsWith("/lfs-put/") ? new MockResponse.Builder().code(200).build() : json(404, "{}");
        };
      }
    });
    String url = client("hf_writer", null).upload("me/my-adapter", adapter, "step 12 adapter");
    assertEquals("https://huggingface.co/me/my-adapter/commit/abc", url);

    List<String> order = requests.stream().map(r -> r.getMethod() + " " + r.getUrl().encodedPath()).toList();
    assertEquals(List.of("POST /api/models/me/my-adapter/preupload/main", "POST /me/my-adapter.git/info/lfs/objects/batch",
        "PUT /lfs-put/" + oid, "POST /api/models/me/my-adapter/commit/main"), order);

    JsonNode pre = JSON.readTree(requests.get(0).getBody().utf8());
    assertEquals(2, pre.path("files").size());
    assertEquals(4096, pre.path("files").get(1).path("size").asInt());
    assertArrayEquals(java.util.Arrays.copyOf(weights, 512),
        Base64.getDecoder().decode(pre.path("files").get(1).path("sample").asText()));

    JsonNode batch = JSON.readTree(requests.get(1).getBody().utf8());
    assertEquals("upload", batch.path("operation").asText());
    assertEquals(oid, batch.path("objects").get(0).path("oid").asText());
    assertTrue(requests.get(1).getHeaders().get("Content-Type").startsWith("application/vnd.git-lfs+json"));

    assertArrayEquals(weights, requests.get(2).getBody().toByteArray(), "the PUT carries the raw bytes");
    assertNull(requests.get(2).getHeaders().get("Authorization"), "no token to the pre-signed storage URL");

    RecordedRequest commit = requests.get(3);
    assertTrue(commit.getHeaders().get("Content-Type").startsWith("application/x-ndjson"));
    assertEquals("Bearer hf_writer", commit.getHeaders().get("Authorization"));
    String[] lines = commit.getBody().utf8().split("\n");
    assertEquals(3, lines.length);
    JsonNode header = JSON.readTree(lines[0]);
    assertEquals("header", header.path("key").asText());
    assertEquals("step 12 adapter", header.path("value").path("summary").asText());
    JsonNode inline = JSON.readTree(lines[1]);
    assertEquals("file", inline.path("key").asText());
    assertEquals("adapter_config.json", inline.path("value").path("path").asText());
    assertEquals("{\"r\":8}", new String(Base64.getDecoder().decode(inline.path("value").path("content").asText()),
        StandardCharsets.UTF_8));
    JsonNode lfs = JSON.readTree(lines[2]);
    assertEquals("lfsFile", lfs.path("key").asText());
    assertEquals(Map.of("path", "adapter_model.safetensors", "algo", "sha256", "oid", oid, "size", 4096),
        JSON.convertValue(lfs.path("value"), Map.class));
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }
}
