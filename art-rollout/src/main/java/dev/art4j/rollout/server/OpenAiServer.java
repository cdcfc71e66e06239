package dev.art4j.rollout.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.art4j.core.chat.Message;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.engine.CompletionSource;
import dev.art4j.rollout.engine.SamplingParams;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server over a {@link CompletionSource}, for agents written in other
 * languages (or any OpenAI client): the rollouts they drive are recorded token-in/token-out for
 * training exactly as {@link dev.art4j.rollout.agent.AgentLoop}'s are.
 *
 * <ul>
 *   <li>{@code POST /v1/chat/completions}: messages (text content), {@code tools},
 *       {@code tool_choice} (auto, none, required, a named function), {@code temperature},
 *       {@code top_p}, {@code max_tokens} / {@code max_completion_tokens}, {@code stop},
 *       {@code seed}, {@code logprobs} (the sampled token's only), {@code n}. Tool calls come back
 *       in OpenAI's format; the model's reasoning as {@code reasoning_content}. No streaming.
 *   <li>{@code GET /v1/models}: the one model served.
 *   <li>{@code GET /v1/trajectories/{completion id}}: the trajectory of each choice of that
 *       completion (the whole conversation so far, with prompt ids, sampled ids and log-probs).
 *   <li>{@code GET /v1/trajectories}: the latest state of every conversation kept.
 * </ul>
 * A bad request gets HTTP 400 with OpenAI's error body ({@code {"error": {"message", "type",
 * "param", "code"}}}) saying what is wrong. Binds 127.0.0.1 unless told otherwise; with an API key
 * set, every request needs {@code Authorization: Bearer <key>} (401 otherwise).
 */
public final class OpenAiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ChatCompletions completions;
  private final ChatFormat format;
  private final SamplingParams defaults;
  private final String modelName;
  private final String apiKey;
  private final int maxN;
  private final int capacity;
  private final Map<String, List<Trajectory>> byCompletion;
  private final HttpServer http;
  private final ExecutorService executor;
  private final long created = System.currentTimeMillis() / 1000;

  private OpenAiServer(Builder b) throws IOException {
    this.format = b.format;
    this.completions = new ChatCompletions(b.source, b.format, b.capacity);
    this.defaults = b.sampling;
    this.modelName = b.modelName;
    this.apiKey = b.apiKey;
    this.maxN = b.maxN;
    this.capacity = b.capacity;
    this.byCompletion = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, List<Trajectory>> eldest) {
        return size() > capacity;
      }
    };
    this.http = HttpServer.create(new InetSocketAddress(b.host, b.port), 64);
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(b.threads, r -> {
      Thread t = new Thread(r, "openai-server-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.createContext("/", this::handle);
    http.start();
    LOG.info("OpenAI-compatible server for '{}' on {}", modelName, baseUrl());
  }

  public static Builder builder(CompletionSource source, ChatFormat format) {
    return new Builder(source, format);
  }

  /** The port bound (useful with port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** The API base URL, {@code http://host:port/v1}. */
  public URI baseUrl() {
    return URI.create("http://" + http.getAddress().getHostString() + ":" + port() + "/v1");
  }

  public String modelName() {
    return modelName;
  }

  /** The trajectories of a completion's choices (empty if the id is unknown or was dropped). */
  public Optional<List<Trajectory>> completion(String completionId) {
    synchronized (byCompletion) {
      return Optional.ofNullable(byCompletion.get(completionId));
    }
  }

  /** The latest state of every conversation kept, with tokens. */
  public List<Trajectory> trajectories() {
    return completions.trajectories();
  }

  /** {@link #trajectories()}, and forgets them (and the per-completion records). */
  public List<Trajectory> drainTrajectories() {
    synchronized (byCompletion) {
      byCompletion.clear();
    }
    return completions.drainTrajectories();
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      if (apiKey != null && !authorized(ex.getRequestHeaders().getFirst("Authorization"))) {
        send(ex, 401, error("Incorrect or missing API key: send 'Authorization: Bearer <key>'", "invalid_request_error", null,
            "invalid_api_key"));
        return;
      }
      String method = ex.getRequestMethod();
      try {
        if (path.equals("/v1/chat/completions")) {
          requireMethod(method, "POST", path);
          send(ex, 200, chatCompletion(readBody(ex)));
        } else if (path.equals("/v1/models")) {
          requireMethod(method, "GET", path);
          send(ex, 200, models());
        } else if (path.equals("/v1/trajectories")) {
          requireMethod(method, "GET", path);
          ObjectNode out = JSON.createObjectNode().put("object", "list");
          out.set("data", JSON.valueToTree(completions.trajectories()));
          send(ex, 200, out);
        } else if (path.startsWith("/v1/trajectories/")) {
          requireMethod(method, "GET", path);
          String id = path.substring("/v1/trajectories/".length());
          Optional<List<Trajectory>> t = completion(id);
          if (t.isEmpty()) {
            send(ex, 404, error("no completion with id '" + id + "' is kept", "invalid_request_error", null, "not_found"));
          } else {
            ObjectNode out = JSON.createObjectNode().put("id", id);
            out.set("trajectories", JSON.valueToTree(t.get()));
            send(ex, 200, out);
          }
        } else {
          send(ex, 404, error("unknown path " + path + " (this server has /v1/chat/completions, /v1/models, /v1/trajectories)",
              "invalid_request_error", null, "not_found"));
        }
      } catch (MethodNotAllowed e) {
        send(ex, 405, error(e.getMessage(), "invalid_request_error", null, null));
      } catch (BadRequestException e) {
        send(ex, 400, error(e.getMessage(), "invalid_request_error", e.param(), null));
      } catch (IllegalArgumentException e) {
        // the engine or the chat template refused the request (prompt too long, template error)
        send(ex, 400, error(e.getMessage(), "invalid_request_error", null, null));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        send(ex, 503, error("server shutting down", "server_error", null, null));
      } catch (RuntimeException e) {
        Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : null;
        if (cause != null) {
          send(ex, 400, error(cause.getMessage(), "invalid_request_error", null, null));
        } else {
          LOG.warn("request {} {} failed", method, path, e);
          send(ex, 500, error(e.getClass().getSimpleName() + ": " + e.getMessage(), "server_error", null, null));
        }
      }
    }
  }

  private ObjectNode chatCompletion(JsonNode body) throws InterruptedException {
    ChatRequest req = ChatRequest.parse(body, defaults, maxN);
    List<ChatCompletions.Choice> choices;
    try {
      choices = completions.complete(req.messages(), req.tools(), req.sampling(), req.toolChoice(), req.n());
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(e.getMessage(), null);
    }
    String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    List<Trajectory> trajectories = new ArrayList<>();
    ObjectNode out = JSON.createObjectNode();
    out.put("id", id).put("object", "chat.completion").put("created", System.currentTimeMillis() / 1000).put("model", modelName);
    ArrayNode arr = out.putArray("choices");
    int promptTokens = 0;
    int completionTokens = 0;
    for (int i = 0; i < choices.size(); i++) {
      ChatCompletions.Choice c = choices.get(i);
      trajectories.add(c.trajectory().withMetadata("completion_id", id).withMetadata("choice", i));
      ObjectNode choice = arr.addObject().put("index", i);
      choice.set("message", message(c.message()));
      if (req.logprobs()) {
        choice.set("logprobs", logprobs(c));
      } else {
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", c.finishReason());
      List<dev.art4j.core.trajectory.Turn> turns = c.trajectory().turns();
      promptTokens = turns.get(turns.size() - 1).promptIds().length;
      completionTokens += c.completion().tokens().length;
    }
    out.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
        .put("total_tokens", promptTokens + completionTokens);
    synchronized (byCompletion) {
      byCompletion.put(id, List.copyOf(trajectories));
    }
    return out;
  }

  private static ObjectNode message(Message m) {
    ObjectNode out = JSON.createObjectNode().put("role", "assistant");
    if (m.content().isEmpty() && m.hasToolCalls()) {
      out.putNull("content");
    } else {
      out.put("content", m.content());
    }
    if (m.reasoningContent() != null) {
      out.put("reasoning_content", m.reasoningContent());
    }
    if (m.hasToolCalls()) {
      out.set("tool_calls", JSON.valueToTree(m.toolCalls()));
    }
    return out;
  }

  private ObjectNode logprobs(ChatCompletions.Choice c) {
    ObjectNode out = JSON.createObjectNode();
    ArrayNode content = out.putArray("content");
    int[] ids = c.completion().tokens();
    float[] lps = c.completion().logprobs();
    for (int i = 0; i < ids.length; i++) {
      String token = format.tokenizer().decode(new int[] {ids[i]});
      ObjectNode e = content.addObject().put("token", token).put("logprob", lps[i]);
      ArrayNode bytes = e.putArray("bytes");
      for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
        bytes.add(b & 0xff);
      }
      e.putArray("top_logprobs");
    }
    return out;
  }

  private ObjectNode models() {
    ObjectNode out = JSON.createObjectNode().put("object", "list");
    out.putArray("data").addObject().put("id", modelName).put("object", "model").put("created", created).put("owned_by", "art4j");
    return out;
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, apiKey.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonNode readBody(HttpExchange ex) {
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readAllBytes();
      if (body.length == 0) {
        throw new BadRequestException("the request has no body: send a JSON object", null);
      }
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequestException("the body is not valid JSON: " + e.getOriginalMessage(), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void requireMethod(String method, String expected, String path) {
    if (!method.equals(expected)) {
      throw new MethodNotAllowed(path + " takes " + expected + ", not " + method);
    }
  }

  private static ObjectNode error(String message, String type, String param, String code) {
    ObjectNode out = JSON.createObjectNode();
    ObjectNode e = out.putObject("error").put("message", message).put("type", type);
    if (param == null) {
      e.putNull("param");
    } else {
      e.put("param", param);
    }
    if (code == null) {
      e.putNull("code");
    } else {
      e.put("code", code);
    }
    return out;
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static final class MethodNotAllowed extends RuntimeException {
    MethodNotAllowed(String message) {
      super(message);
    }
  }

  /** Options of an {@link OpenAiServer}. */
  public static final class Builder {
    private final CompletionSource source;
    private final ChatFormat format;
    private String host = "127.0.0.1";
    private int port = 8000;
    private String apiKey;
    private String modelName = "art4j";
    private SamplingParams sampling = SamplingParams.builder().maxNewTokens(1024).build();
    private int maxN = 16;
    private int capacity = 4096;
    private int threads = 64;

    private Builder(CompletionSource source, ChatFormat format) {
      this.source = Objects.requireNonNull(source, "source");
      this.format = Objects.requireNonNull(format, "format");
    }

    /** Address to bind; default 127.0.0.1 (this machine only). */
    public Builder host(String v) { host = Objects.requireNonNull(v); return this; }

    /** Port; default 8000, 0 for any free port. */
    public Builder port(int v) { port = v; return this; }

    /** Require {@code Authorization: Bearer <key>}; default none. */
    public Builder apiKey(String v) { apiKey = v == null || v.isEmpty() ? null : v; return this; }

    /** The model id clients see in {@code /v1/models} and responses; default "art4j". */
    public Builder modelName(String v) { modelName = Objects.requireNonNull(v); return this; }

    /** Sampling when a request does not say (default temperature 1, top-p 1, 1024 new tokens). */
    public Builder sampling(SamplingParams v) { sampling = Objects.requireNonNull(v); return this; }

    /** Largest {@code n} accepted; default 16. */
    public Builder maxN(int v) { maxN = v; return this; }

    /** Conversations and completions kept for fetching back; default 4096. */
    public Builder capacity(int v) { capacity = v; return this; }

    /** Requests handled at once (they are batched by the engine); default 64. */
    public Builder threads(int v) { threads = v; return this; }

    /** Binds and starts serving. */
    public OpenAiServer start() throws IOException {
      return new OpenAiServer(this);
    }
  }
}
