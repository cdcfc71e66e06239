package dev.art4j.rollout.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI- and vLLM-compatible HTTP server over a {@link CompletionSource}, for agents written in
 * other languages (or any OpenAI client): the chat rollouts they drive are recorded
 * token-in/token-out for training exactly as {@link dev.art4j.rollout.agent.AgentLoop}'s are.
 * Endpoints and parameters: the module README's table. Runs on Jetty 12 (core handlers, no
 * servlets): bodies are read asynchronously up to a size limit (413 past it), requests that
 * sample wait in a bounded queue in front of a fixed set of workers (429 when it is full), a
 * client that goes away cancels its request in the engine, and cancelled or failed requests are
 * never kept as trajectories. Errors come in OpenAI's shape {@code {"error": {"message", "type",
 * "param", "code"}}}. Binds 127.0.0.1 unless told otherwise; with an API key set, every
 * {@code /v1} request needs {@code Authorization: Bearer <key>} (401 otherwise); the key is never logged.
 */
public final class OpenAiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
  static final String VERSION = "0.1.0";
  private static final ObjectReader STRICT = Exchange.JSON.readerFor(JsonNode.class)
      .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  final ChatCompletions completions;
  final ChatFormat format;
  final CompletionSource source;
  final SamplingParams defaults;
  final String modelName;
  private final String apiKey;
  final int maxN;
  final int vocab;
  final int maxContext;
  private final long maxBodyBytes;
  private final Map<String, List<Trajectory>> byCompletion;
  private final Server jetty;
  private final ServerConnector connector;
  private final ThreadPoolExecutor workers;
  final ServerMetrics metrics = new ServerMetrics();
  final LoraAdapters adapters;
  private final Target base;
  final long created = System.currentTimeMillis() / 1000;

  private OpenAiServer(Builder b) throws IOException {
    this.format = b.format;
    this.source = b.source;
    this.completions = new ChatCompletions(b.source, b.format, b.capacity);
    this.adapters = new LoraAdapters(b.source, b.format, b.capacity);
    this.base = new Target(b.modelName, b.source, completions, null);
    this.defaults = b.sampling;
    this.modelName = b.modelName;
    this.apiKey = b.apiKey;
    this.maxN = b.maxN;
    this.maxBodyBytes = b.maxBodyBytes;
    this.vocab = b.source instanceof InferenceEngine e ? e.config().vocabSize() : b.format.tokenizer().vocabSize();
    this.maxContext = b.maxContext > 0 ? b.maxContext : b.source instanceof InferenceEngine e ? e.maxContext() : Integer.MAX_VALUE;
    int capacity = b.capacity;
    this.byCompletion = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, List<Trajectory>> eldest) {
        return size() > capacity;
      }
    };
    AtomicInteger n = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(b.threads, b.threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(b.maxQueue), r -> {
      Thread t = new Thread(r, "openai-worker-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
    QueuedThreadPool io = new QueuedThreadPool(Math.max(16, b.ioThreads), 4);
    io.setName("openai-io");
    io.setDaemon(true);
    this.jetty = new Server(io);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    this.connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
    connector.setHost(b.host);
    connector.setPort(b.port);
    connector.setIdleTimeout(b.idleTimeoutMillis);
    connector.setAcceptQueueSize(1024);
    jetty.addConnector(connector);
    jetty.setHandler(new Routes(this));
    try {
      jetty.start();
    } catch (Exception e) {
      workers.shutdownNow();
      throw new IOException("cannot start the server on " + b.host + ":" + b.port + ": " + e.getMessage(), e);
    }
    LOG.info("OpenAI-compatible server for '{}' on {}{}", modelName, baseUrl(), apiKey != null ? " (API key required)" : "");
  }

  public static Builder builder(CompletionSource source, ChatFormat format) {
    return new Builder(source, format);
  }

  /** The port bound (useful with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The API base URL, {@code http://host:port/v1}. */
  public URI baseUrl() {
    String host = connector.getHost() == null ? "0.0.0.0" : connector.getHost();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/v1");
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

  void keepCompletion(String id, List<Trajectory> trajectories) {
    synchronized (byCompletion) {
      byCompletion.put(id, List.copyOf(trajectories));
    }
  }

  /** The latest state of every conversation kept (the base model's, then each adapter's), with tokens. */
  public List<Trajectory> trajectories() {
    List<Trajectory> out = new java.util.ArrayList<>(completions.trajectories());
    for (Target t : adapters.all()) {
      out.addAll(t.chats().trajectories());
    }
    return out;
  }

  /** {@link #trajectories()}, and forgets them (and the per-completion records). */
  public List<Trajectory> drainTrajectories() {
    synchronized (byCompletion) {
      byCompletion.clear();
    }
    List<Trajectory> out = new java.util.ArrayList<>(completions.drainTrajectories());
    for (Target t : adapters.all()) {
      out.addAll(t.chats().drainTrajectories());
    }
    return out;
  }

  /** Requests being sampled now, and requests waiting for a worker. */
  int running() {
    return workers.getActiveCount();
  }

  int waiting() {
    return workers.getQueue().size();
  }

  @Override
  public void close() {
    // a caller closing because it was interrupted must still get a clean stop
    boolean interrupted = Thread.interrupted();
    try {
      jetty.stop();
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server failed", e);
    } finally {
      workers.shutdownNow();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  boolean authorized(String header) {
    if (apiKey == null) {
      return true;
    }
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, apiKey.getBytes(StandardCharsets.UTF_8));
  }

  /** The base model or the loaded adapter {@code model} names (absent: the base model); 404 model_not_found otherwise. */
  Target target(String model) {
    if (model == null || model.equals(modelName)) {
      return base;
    }
    Target t = adapters.get(model);
    if (t == null) {
      throw new ApiException(404, "The model `" + model + "` does not exist (this server has `" + modelName + "`"
          + adapters.all().stream().map(a -> ", `" + a.name() + "`").collect(java.util.stream.Collectors.joining()) + ").",
          "invalid_request_error", "model", "model_not_found");
    }
    return t;
  }

  void checkModel(String model) {
    target(model);
  }

  /** Parses a whole body as one JSON value: trailing text after it is a 400. */
  static JsonNode parse(byte[] body) {
    if (body.length == 0) {
      throw new BadRequestException("the request has no body: send a JSON object", null);
    }
    try {
      return STRICT.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequestException("the body is not valid JSON: " + e.getOriginalMessage(), null);
    } catch (IOException e) {
      throw new BadRequestException("the body could not be read: " + e.getMessage(), null);
    }
  }

  /** Reads the body, then runs {@code work} on a worker: 429 if the queue is full, cancelled if the client goes. */
  void dispatch(Exchange ex, Work work) {
    Job job = new Job(ex, work);
    // registered before the body is read: Jetty tells listeners present while it reads the connection
    ex.request.addFailureListener(job::cancel);
    BodyReader.read(ex.request, maxBodyBytes, body -> {
      JsonNode json;
      try {
        json = parse(body);
      } catch (ApiException e) {
        ex.error(e);
        return;
      }
      job.body = json;
      // from here on the request may run longer than the idle timeout without any I/O: that is work, not a dead client
      ex.request.addIdleTimeoutListener(t -> false);
      try {
        workers.execute(job);
      } catch (RejectedExecutionException e) {
        metrics.rejected.incrementAndGet();
        ex.error(ApiException.busy("the server is busy: " + running() + " requests are running and " + waiting()
            + " are waiting, the most it queues; retry later"));
      }
    }, failure -> {
      if (failure instanceof ApiException e) {
        ex.error(e);
      } else {
        ex.callback.failed(failure);
      }
    });
  }

  /** What a worker does with a parsed request body. */
  interface Work {
    void run(Exchange ex, JsonNode body) throws Exception;
  }

  /** One queued request: cancelled (its thread interrupted) when the client goes away. */
  private final class Job implements Runnable {
    private final Exchange ex;
    private volatile JsonNode body;
    private final Work work;
    private Thread thread;
    private boolean cancelled;
    private boolean finished;

    Job(Exchange ex, Work work) {
      this.ex = ex;
      this.work = work;
    }

    synchronized void cancel(Throwable why) {
      if (cancelled || finished || body == null) {
        return; // a failure while the body is read is the reader's to answer
      }
      cancelled = true;
      metrics.cancelled.incrementAndGet();
      if (thread != null) {
        thread.interrupt();
      }
    }

    @Override
    public void run() {
      synchronized (this) {
        if (cancelled || ex.clientGone()) {
          if (!cancelled) {
            cancelled = true;
            metrics.cancelled.incrementAndGet();
          }
          ex.callback.failed(new IOException("the client went away before its request started"));
          return;
        }
        thread = Thread.currentThread();
      }
      try {
        work.run(ex, body);
      } catch (ApiException e) {
        ex.error(e);
      } catch (InterruptedException e) {
        cancel(e);
        ex.callback.failed(new IOException("the client went away; its request was cancelled"));
      } catch (IllegalArgumentException e) {
        ex.error(new BadRequestException(e.getMessage(), null));
      } catch (Exception e) {
        if (Exchange.isDisconnect(e) || cancelledNow()) {
          cancel(e);
          ex.callback.failed(e);
        } else {
          Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : null;
          if (cause != null) {
            ex.error(new BadRequestException(cause.getMessage(), null));
          } else {
            LOG.warn("request {} failed", Request.getPathInContext(ex.request), e);
            ex.error(new ApiException(500, e.getClass().getSimpleName() + ": " + e.getMessage(), "server_error", null, null));
          }
        }
      } finally {
        synchronized (this) {
          finished = true;
          thread = null;
        }
        Thread.interrupted(); // a late cancel must not leak into the worker's next job
      }
    }

    private synchronized boolean cancelledNow() {
      return cancelled;
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
    private int ioThreads = 32;
    private int maxQueue = 256;
    private long maxBodyBytes = 8L << 20;
    private long idleTimeoutMillis = 30_000;
    private int maxContext;

    private Builder(CompletionSource source, ChatFormat format) {
      this.source = Objects.requireNonNull(source, "source");
      this.format = Objects.requireNonNull(format, "format");
    }

    /** Address to bind; default 127.0.0.1 (this machine only). */
    public Builder host(String v) { host = Objects.requireNonNull(v); return this; }

    /** Port; default 8000, 0 for any free port. */
    public Builder port(int v) { port = v; return this; }

    /** Require {@code Authorization: Bearer <key>} on {@code /v1}; default none. */
    public Builder apiKey(String v) { apiKey = v == null || v.isEmpty() ? null : v; return this; }

    /** The model id clients see in {@code /v1/models} and must send (or leave out); default "art4j". */
    public Builder modelName(String v) { modelName = Objects.requireNonNull(v); return this; }

    /** Sampling when a request does not say (default temperature 1, top-p 1, 1024 new tokens). */
    public Builder sampling(SamplingParams v) { sampling = Objects.requireNonNull(v); return this; }

    /** Largest {@code n} accepted; default 16. */
    public Builder maxN(int v) { maxN = v; return this; }

    /** Conversations and completions kept for fetching back; default 4096. */
    public Builder capacity(int v) { capacity = v; return this; }

    /** Requests sampled at once (the engine batches them); default 64. */
    public Builder threads(int v) { threads = v; return this; }

    /** Requests waiting for a worker before new ones get 429; default 256. */
    public Builder maxQueue(int v) { maxQueue = v; return this; }

    /** Largest request body in bytes (413 past it); default 8 MiB. */
    public Builder maxBodyBytes(long v) { maxBodyBytes = v; return this; }

    /** A connection silent this long while sending its request (or reading the answer) is closed; default 30 s. */
    public Builder idleTimeoutMillis(long v) { idleTimeoutMillis = v; return this; }

    /** Threads that read and write connections (never blocked by sampling); default 32. */
    public Builder ioThreads(int v) { ioThreads = v; return this; }

    /** Prompt plus max_tokens allowed (default: the engine's context, else unbounded). */
    public Builder maxContext(int v) { maxContext = v; return this; }

    /** Binds and starts serving. */
    public OpenAiServer start() throws IOException {
      return new OpenAiServer(this);
    }
  }
}
