package dev.art4j.rollout.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.SamplingParams;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CompletionSource} over a fleet of vLLM servers (or {@code art4j serve} processes, which
 * speak the same API): each request is one {@code POST /v1/completions} with a token-id prompt,
 * {@code logprobs: 1}, {@code return_tokens_as_token_ids} and {@code skip_special_tokens: false};
 * the sampled ids are read back from the {@code "token_id:N"} strings, so a trajectory is never
 * re-tokenised. The {@code model} field names the LoRA adapter to sample with
 * ({@link #useModel}, loaded on every server with {@link #loadAdapter}).
 *
 * <p>Routing: a request whose prompt extends a sequence a server produced (the next turn of the
 * same conversation) goes back to that server, whose prefix cache holds it; any other request goes
 * to the server with the fewest requests in flight. At most {@code maxInFlightPerServer} requests
 * are in flight on one server; the rest wait here, in order. A request that fails (connection
 * refused or reset, 5xx, 429, time-out) is retried once on another server; a 4xx fails it with
 * {@link IllegalArgumentException}. A server with {@code failuresToEject} failures in a row is
 * taken out of rotation and probed on {@code /health} every {@code probeInterval}; when it answers
 * again it gets the loaded adapters back before it takes requests.
 *
 * <p>Log-probs: {@code log softmax(z / T)} at the request's temperature {@code T} (1 for greedy),
 * as {@code art4j serve} and vLLM with {@code --logprobs-mode processed_logprobs} return them;
 * {@link Builder#rawLogprobs} for servers that return the temperature-1 log-probs (vLLM's default).
 * {@link Completion#logprobTemperature()} says which, and the trainer divides its logits by it.
 */
public final class RemoteEngine implements CompletionSource, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RemoteEngine.class);
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  /** choose(): no server can ever take this request. */
  private static final RemoteServer NONE = new RemoteServer(HttpUrl.get("http://none.invalid/"));

  private final OkHttpClient http;
  private final OkHttpClient probeHttp;
  private final List<RemoteServer> servers;
  private final PrefixRoutes routes = new PrefixRoutes(1 << 16);
  private final Object lock = new Object();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  /** Adapters loaded on the fleet, name to server path: what a recovered server is given again. */
  private final Map<String, String> adapters = new LinkedHashMap<>();
  private final int maxInFlight;
  private final int failuresToEject;
  private final Duration probeInterval;
  private final boolean rawLogprobs;
  private final String apiKey;
  private final String baseModel;
  private final ScheduledExecutorService prober;
  private volatile String model;
  /** The base model's name was given: every server is asked for it by that name. */
  private boolean fixedModel;
  private volatile boolean closed;
  private int rotate;

  private RemoteEngine(Builder b) {
    if (b.servers.isEmpty()) {
      throw new IllegalArgumentException("no rollout servers given");
    }
    this.maxInFlight = b.maxInFlightPerServer;
    this.failuresToEject = b.failuresToEject;
    this.probeInterval = b.probeInterval;
    this.rawLogprobs = b.rawLogprobs;
    this.apiKey = b.apiKey;
    Dispatcher dispatcher = new Dispatcher();
    // the engine limits requests per server itself; OkHttp's default of 5 per host would queue them unseen
    dispatcher.setMaxRequests(Integer.MAX_VALUE);
    dispatcher.setMaxRequestsPerHost(Integer.MAX_VALUE);
    this.http = new OkHttpClient.Builder().dispatcher(dispatcher)
        .connectionPool(new ConnectionPool(Math.max(5, b.maxInFlightPerServer * b.servers.size()), 5, TimeUnit.MINUTES))
        .connectTimeout(b.connectTimeout).readTimeout(b.requestTimeout).writeTimeout(b.connectTimeout)
        .callTimeout(b.requestTimeout)
        // a silent resend by OkHttp could sample the same request twice: retries are this class's
        .retryOnConnectionFailure(false).build();
    this.probeHttp = http.newBuilder().callTimeout(b.connectTimeout).readTimeout(b.connectTimeout).build();
    List<RemoteServer> list = new ArrayList<>();
    for (URI u : b.servers) {
      list.add(new RemoteServer(root(u)));
    }
    this.servers = List.copyOf(list);
    this.prober = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "remote-engine-probe");
      t.setDaemon(true);
      return t;
    });
    List<String> down = new ArrayList<>();
    for (RemoteServer s : servers) {
      String why = health(s);
      if (why != null) {
        down.add(s.name + " (" + why + ")");
        s.up = false;
        s.dropped.incrementAndGet();
      }
    }
    if (down.size() == servers.size()) {
      close();
      throw new IllegalStateException("no rollout server answers /health: " + String.join(", ", down));
    }
    for (RemoteServer s : servers) {
      if (!s.up) {
        LOG.warn("rollout server {} is down at start; probing /health every {} ms", s.name, probeInterval.toMillis());
        synchronized (lock) {
          s.probing = true;
        }
        scheduleProbe(s);
      }
    }
    for (RemoteServer s : servers) {
      if (s.up) {
        s.baseModel = b.model != null ? b.model : discoverModel(s);
      }
    }
    String base = b.model;
    for (RemoteServer s : servers) {
      if (base == null && s.baseModel != null) {
        base = s.baseModel;
      }
    }
    if (base == null) {
      close();
      throw new IllegalStateException("no rollout server lists its model on /v1/models; give the model name ("
          + servers.get(0).name + ")");
    }
    this.baseModel = base;
    this.model = baseModel;
    this.fixedModel = b.model != null;
  }

  public static Builder builder(List<URI> servers) {
    return new Builder(servers);
  }

  /** The model the servers were started with (what {@code model} names when no adapter is used). */
  public String baseModel() {
    return baseModel;
  }

  /** The model (base or adapter name) that {@link #submit(int[], SamplingParams)} samples with now. */
  public String model() {
    return model;
  }

  /** Requests submitted from now on name {@code model} (an adapter loaded with {@link #loadAdapter}, or the base). */
  public void useModel(String model) {
    this.model = Objects.requireNonNull(model, "model");
  }

  /** This fleet pinned to {@code model}, whatever {@link #useModel} is given later (for rollouts of a known policy step). */
  public CompletionSource pinned(String model) {
    Objects.requireNonNull(model, "model");
    return (prompt, params) -> submit(prompt, params, model);
  }

  @Override
  public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params) {
    return submit(promptIds, params, model);
  }

  /** {@link #submit(int[], SamplingParams)} with the adapter (or base model) named {@code model}. */
  public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, String model) {
    CompletableFuture<Completion> f = new CompletableFuture<>();
    if (promptIds == null || promptIds.length == 0) {
      f.completeExceptionally(new IllegalArgumentException("empty prompt"));
      return f;
    }
    if (params.constraint() != null) {
      f.completeExceptionally(new IllegalArgumentException("a token constraint (constrained decoding) is applied by the "
          + "in-process InferenceEngine only; a remote vLLM server does not receive it"));
      return f;
    }
    if (closed) {
      f.completeExceptionally(new IllegalStateException("the remote engine is closed"));
      return f;
    }
    Pending p = new Pending(promptIds.clone(), params, model, f, routes.lookup(promptIds));
    f.whenComplete((c, e) -> {
      if (f.isCancelled()) {
        Call call = p.call;
        if (call != null) {
          call.cancel();
        }
        synchronized (lock) {
          queue.remove(p);
        }
      }
    });
    synchronized (lock) {
      queue.addLast(p);
    }
    pump();
    return f;
  }

  /** Each server's state, in the order given. */
  public List<ServerStatus> servers() {
    synchronized (lock) {
      return servers.stream().map(RemoteServer::status).toList();
    }
  }

  /** Requests waiting here for room on a server. */
  public int waiting() {
    synchronized (lock) {
      return queue.size();
    }
  }

  /**
   * Loads the PEFT adapter folder {@code serverPath} (a path as the servers see it) as
   * {@code name} on every server in rotation ({@code POST /v1/load_lora_adapter}); a server out of
   * rotation gets it when it comes back. A server that cannot be reached is taken out of
   * rotation; one that answers with an error fails the whole load.
   *
   * @throws AdapterLoadException naming the server and the path, when a server refuses the
   *     adapter or no server could be reached
   */
  public void loadAdapter(String name, String serverPath) {
    synchronized (lock) {
      adapters.put(name, serverPath);
    }
    int loaded = 0;
    String lastUnreachable = null;
    for (RemoteServer s : servers) {
      synchronized (lock) {
        if (!s.up) {
          continue;
        }
      }
      try {
        load(s, name, serverPath);
        loaded++;
      } catch (IOException e) {
        lastUnreachable = s.name + ": " + e;
        drop(s, "load_lora_adapter failed: " + e);
      } catch (AdapterLoadException e) {
        synchronized (lock) {
          adapters.remove(name);
        }
        throw e;
      }
    }
    if (loaded == 0) {
      synchronized (lock) {
        adapters.remove(name);
      }
      throw new AdapterLoadException(servers.get(0).name, name, serverPath, "no rollout server could be reached"
          + (lastUnreachable == null ? "" : " (last: " + lastUnreachable + ")"), null);
    }
    LOG.info("LoRA adapter '{}' ({}) loaded on {} server(s)", name, serverPath, loaded);
  }

  /** Unloads adapter {@code name} from every server in rotation ({@code POST /v1/unload_lora_adapter}); failures are logged. */
  public void unloadAdapter(String name) {
    String path;
    synchronized (lock) {
      path = adapters.remove(name);
    }
    for (RemoteServer s : servers) {
      synchronized (lock) {
        if (!s.up) {
          continue;
        }
      }
      ObjectNode body = CompletionWire.JSON.createObjectNode().put("lora_name", name);
      try (Response r = probeHttp.newCall(post(s, "v1/unload_lora_adapter", body)).execute()) {
        if (!r.isSuccessful()) {
          LOG.warn("{} did not unload LoRA adapter '{}' ({}): HTTP {} {}", s.name, name, path, r.code(),
              CompletionWire.errorMessage(r.body().string()));
        }
      } catch (IOException e) {
        LOG.warn("{} did not unload LoRA adapter '{}': {}", s.name, name, e.toString());
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    prober.shutdownNow();
    List<Pending> left;
    synchronized (lock) {
      left = new ArrayList<>(queue);
      queue.clear();
    }
    for (Pending p : left) {
      p.future.completeExceptionally(new IllegalStateException("the remote engine was closed"));
    }
    http.dispatcher().cancelAll();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  // ------------------------------------------------------------------ routing

  /** One request, from submit to its answer; retried at most once. */
  private static final class Pending {
    final int[] prompt;
    final SamplingParams params;
    final String model;
    final CompletableFuture<Completion> future;
    final RemoteServer sticky;
    RemoteServer failedOn;
    String firstError;
    volatile Call call;

    Pending(int[] prompt, SamplingParams params, String model, CompletableFuture<Completion> future, RemoteServer sticky) {
      this.prompt = prompt;
      this.params = params;
      this.model = model;
      this.future = future;
      this.sticky = sticky;
    }
  }

  /** Sends every waiting request that a server has room for, in order. */
  private void pump() {
    List<Runnable> after = new ArrayList<>();
    synchronized (lock) {
      for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (p.future.isDone()) {
          it.remove();
          continue;
        }
        RemoteServer s = choose(p);
        if (s == null) {
          continue;
        }
        it.remove();
        if (s == NONE) {
          String msg = p.failedOn == null ? "no rollout server is up: " + downList()
              : "failed on " + p.failedOn.name + " (" + p.firstError + ") and no other rollout server is up";
          after.add(() -> p.future.completeExceptionally(new IOException(msg)));
          continue;
        }
        s.inFlight++;
        after.add(() -> send(p, s));
      }
    }
    after.forEach(Runnable::run);
  }

  /** The server for {@code p}: null to wait for room, {@link #NONE} if none can take it. */
  private RemoteServer choose(Pending p) {
    if (p.sticky != null && p.sticky.up && p.sticky != p.failedOn) {
      return p.sticky.inFlight < maxInFlight ? p.sticky : null;
    }
    RemoteServer best = null;
    boolean any = false;
    int n = servers.size();
    int start = rotate++ % n;
    for (int i = 0; i < n; i++) {
      RemoteServer s = servers.get((start + i) % n);
      if (!s.up || s == p.failedOn) {
        continue;
      }
      any = true;
      if (s.inFlight < maxInFlight && (best == null || s.inFlight < best.inFlight)) {
        best = s;
      }
    }
    return any ? best : NONE;
  }

  private String downList() {
    return servers.stream().map(s -> s.name).reduce((a, b) -> a + ", " + b).orElse("");
  }

  private void send(Pending p, RemoteServer s) {
    if (closed) {
      release(s, false, null);
      p.future.completeExceptionally(new IllegalStateException("the remote engine was closed"));
      return;
    }
    // servers of one base model may name it differently (vLLM: the path it was started with)
    String model = p.model.equals(baseModel) && s.baseModel != null ? s.baseModel : p.model;
    ObjectNode body = CompletionWire.request(model, p.prompt, p.params);
    Call call = http.newCall(post(s, "v1/completions", body));
    p.call = call;
    if (p.future.isDone()) {
      call.cancel();
    }
    long t0 = System.nanoTime();
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        // not c.isCanceled(): OkHttp's call time-out cancels the call too, and that is a failure to retry
        if (p.future.isDone()) {
          release(s, false, null);
          pump();
          return;
        }
        failed(p, s, e.toString(), true);
      }

      @Override
      public void onResponse(Call c, Response r) {
        String text;
        int code = r.code();
        try (r) {
          text = r.body().string();
        } catch (IOException e) {
          failed(p, s, "reading the answer: " + e, true);
          return;
        }
        JsonNode json = null;
        if (code == 200) {
          try {
            json = CompletionWire.JSON.readTree(text);
          } catch (IOException e) {
            // reported below as a malformed answer
          }
          JsonNode error = json == null ? null : json.get("error");
          if (error != null && error.isObject()) {
            // a server that sent its status early (keep-alive whitespace) puts a late error in a 200's body
            String msg = "HTTP 200 with an error: " + CompletionWire.errorMessage(text);
            if ("invalid_request_error".equals(error.path("type").asText())) {
              release(s, false, null);
              p.future.completeExceptionally(new IllegalArgumentException(s.name + "/v1/completions answered " + msg));
              pump();
            } else {
              failed(p, s, msg, true);
            }
            return;
          }
        }
        if (code == 200) {
          Completion done;
          try {
            if (json == null) {
              throw new IOException("not JSON: " + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
            }
            float temp = rawLogprobs || p.params.temperature() == 0 ? 1f : (float) p.params.temperature();
            done = CompletionWire.parse(s.name, json, p.prompt.length, temp, (System.nanoTime() - t0) / 1e6);
          } catch (IOException | RuntimeException e) {
            release(s, false, null);
            p.future.completeExceptionally(e instanceof IOException ? new IllegalStateException(s.name
                + "/v1/completions: the answer is " + e.getMessage(), e) : e);
            pump();
            return;
          }
          routes.remember(p.prompt, done.tokens(), s);
          release(s, true, null);
          p.future.complete(done);
          pump();
        } else if (code >= 500 || code == 429) {
          // 429 is a busy server, not a broken one: retried elsewhere but not counted against it
          failed(p, s, "HTTP " + code + ": " + CompletionWire.errorMessage(text), code != 429);
        } else {
          release(s, false, null);
          p.future.completeExceptionally(new IllegalArgumentException(s.name + "/v1/completions answered HTTP " + code
              + ": " + CompletionWire.errorMessage(text)));
          pump();
        }
      }
    });
  }

  /** A retryable failure of {@code p} on {@code s}: once more on another server, else the future fails. */
  private void failed(Pending p, RemoteServer s, String why, boolean countAgainstServer) {
    boolean retry;
    synchronized (lock) {
      retry = p.failedOn == null && !closed;
      if (retry) {
        p.failedOn = s;
        p.firstError = why;
        queue.addFirst(p);
      }
    }
    LOG.debug("request failed on {}: {}{}", s.name, why, retry ? " (retrying on another server)" : "");
    release(s, false, countAgainstServer ? why : null);
    if (!retry) {
      p.future.completeExceptionally(new IOException(p.failedOn == null ? "rollout request failed on " + s.name + " (" + why + ")"
          : "rollout request failed on " + p.failedOn.name + " (" + p.firstError + ") and on " + s.name + " (" + why + ")"));
    }
    pump();
  }

  /** Frees {@code s}'s slot; {@code failure} (non-null) counts towards taking it out of rotation. */
  private void release(RemoteServer s, boolean ok, String failure) {
    synchronized (lock) {
      s.inFlight--;
      if (ok) {
        s.completed.incrementAndGet();
        s.consecutiveFailures = 0;
      }
    }
    if (failure != null) {
      s.failed.incrementAndGet();
      boolean eject;
      synchronized (lock) {
        eject = ++s.consecutiveFailures >= failuresToEject && s.up;
      }
      if (eject) {
        drop(s, failure);
      }
    }
  }

  /** Takes {@code s} out of rotation and starts probing it. */
  private void drop(RemoteServer s, String why) {
    synchronized (lock) {
      if (!s.up) {
        return;
      }
      s.up = false;
      s.dropped.incrementAndGet();
      s.probing = true;
    }
    LOG.warn("rollout server {} taken out of rotation ({}); probing /health every {} ms", s.name, why, probeInterval.toMillis());
    scheduleProbe(s);
    pump(); // requests stuck to it go elsewhere
  }

  private void scheduleProbe(RemoteServer s) {
    if (closed) {
      return;
    }
    try {
      prober.schedule(() -> probe(s), probeInterval.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  /** Back in rotation once {@code /health} answers and the loaded adapters are loaded again. */
  private void probe(RemoteServer s) {
    if (closed || health(s) != null) {
      scheduleProbe(s);
      return;
    }
    if (s.baseModel == null) {
      String found = fixedModel ? null : discoverModel(s);
      s.baseModel = found != null ? found : baseModel;
    }
    Map<String, String> toLoad;
    synchronized (lock) {
      toLoad = new LinkedHashMap<>(adapters);
    }
    try {
      for (Map.Entry<String, String> a : toLoad.entrySet()) {
        load(s, a.getKey(), a.getValue());
      }
    } catch (IOException | AdapterLoadException e) {
      LOG.warn("rollout server {} answers /health but could not get its adapters back: {}", s.name, e.getMessage());
      scheduleProbe(s);
      return;
    }
    synchronized (lock) {
      s.up = true;
      s.probing = false;
      s.consecutiveFailures = 0;
    }
    LOG.info("rollout server {} is back in rotation", s.name);
    pump();
  }

  // ------------------------------------------------------------------ HTTP

  /** null if {@code GET /health} answers 2xx, else why not. */
  private String health(RemoteServer s) {
    Request.Builder b = new Request.Builder().url(s.url("health")).get();
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    try (Response r = probeHttp.newCall(b.build()).execute()) {
      return r.isSuccessful() ? null : "HTTP " + r.code();
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void load(RemoteServer s, String name, String path) throws IOException {
    ObjectNode body = CompletionWire.JSON.createObjectNode().put("lora_name", name).put("lora_path", path);
    try (Response r = probeHttp.newBuilder().callTimeout(Duration.ofMinutes(5)).readTimeout(Duration.ofMinutes(5)).build()
        .newCall(post(s, "v1/load_lora_adapter", body)).execute()) {
      String text = r.body().string();
      if (r.isSuccessful()) {
        return;
      }
      String msg = CompletionWire.errorMessage(text);
      if (r.code() == 400 && msg.contains("already been loaded")) {
        return; // vLLM's answer for a name it holds: a server coming back may still have it
      }
      throw new AdapterLoadException(s.name, name, path, "HTTP " + r.code() + ": " + msg, null);
    }
  }

  /** The base model {@code s} lists first on {@code /v1/models} (vLLM lists adapters with the base as their parent). */
  private String discoverModel(RemoteServer s) {
    Request.Builder b = new Request.Builder().url(s.url("v1/models")).get();
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    try (Response r = probeHttp.newCall(b.build()).execute()) {
      JsonNode data = CompletionWire.JSON.readTree(r.body().string()).path("data");
      for (JsonNode m : data) {
        if (!m.hasNonNull("parent") || m.get("parent").asText().equals(m.path("id").asText())) {
          return m.path("id").asText();
        }
      }
    } catch (IOException e) {
      LOG.warn("{}/v1/models: {}", s.name, e.toString());
    }
    return null;
  }

  private Request post(RemoteServer s, String path, JsonNode body) {
    Request.Builder b = new Request.Builder().url(s.url(path)).post(RequestBody.create(body.toString(), JSON_TYPE));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return b.build();
  }

  /** {@code http://host:port} from {@code http://host:port}, {@code .../} or {@code .../v1}. */
  static HttpUrl root(URI u) {
    HttpUrl url = HttpUrl.get(u.toString());
    if (url == null) {
      throw new IllegalArgumentException("not an http(s) URL: " + u);
    }
    String path = url.encodedPath().replaceAll("/+$", "");
    if (path.endsWith("/v1")) {
      path = path.substring(0, path.length() - 3);
    }
    return url.newBuilder().encodedPath(path + "/").build();
  }

  /** Builder for {@link RemoteEngine}. */
  public static final class Builder {
    private final List<URI> servers;
    private String model;
    private String apiKey;
    private int maxInFlightPerServer = 64;
    private int failuresToEject = 3;
    private Duration probeInterval = Duration.ofSeconds(2);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofMinutes(10);
    private boolean rawLogprobs;

    private Builder(List<URI> servers) {
      this.servers = List.copyOf(servers);
    }

    /** The base model's name as the servers serve it (default: the first model that {@code GET /v1/models} lists). */
    public Builder model(String v) { model = v; return this; }
    /** Sent as {@code Authorization: Bearer} (vLLM's {@code --api-key}). */
    public Builder apiKey(String v) { apiKey = v; return this; }
    /** Requests in flight on one server at most (default 64); the rest wait in order. */
    public Builder maxInFlightPerServer(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxInFlightPerServer must be >= 1, got " + v);
      }
      maxInFlightPerServer = v;
      return this;
    }
    /** Failures in a row that take a server out of rotation (default 3). */
    public Builder failuresToEject(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("failuresToEject must be >= 1, got " + v);
      }
      failuresToEject = v;
      return this;
    }
    /** How often a server out of rotation is probed on {@code /health} (default 2 s). */
    public Builder probeInterval(Duration v) { probeInterval = Objects.requireNonNull(v); return this; }
    /** Connect (and probe) time-out (default 5 s). */
    public Builder connectTimeout(Duration v) { connectTimeout = Objects.requireNonNull(v); return this; }
    /** The longest one completion may take, after which it is retried elsewhere (default 10 min). */
    public Builder requestTimeout(Duration v) { requestTimeout = Objects.requireNonNull(v); return this; }
    /** The servers return temperature-1 log-probs whatever the sampling temperature (vLLM's default {@code --logprobs-mode raw_logprobs}). */
    public Builder rawLogprobs(boolean v) { rawLogprobs = v; return this; }

    /**
     * Checks every server's {@code /health} (those that do not answer start out of rotation) and
     * finds the base model's name.
     *
     * @throws IllegalStateException if no server answers
     */
    public RemoteEngine build() {
      return new RemoteEngine(this);
    }
  }
}
