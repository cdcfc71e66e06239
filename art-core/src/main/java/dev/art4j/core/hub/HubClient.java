package dev.art4j.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small Hugging Face Hub client over OkHttp: finds models and datasets in the standard local
 * cache, downloads repositories into that same cache, and uploads a folder (a LoRA adapter) to a
 * repository through the Hub's commit API.
 *
 * <p>The cache layout is the one {@code huggingface_hub} writes, so either tool reads what the
 * other wrote:
 *
 * <pre>
 * $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
 *   models--Org--Name/
 *     refs/main                  the commit sha that "main" pointed to when downloaded
 *     snapshots/&lt;sha&gt;/...        the repository's files
 *   datasets--Org--Name/...
 * </pre>
 *
 * <p>Downloads go to {@code <file>.incomplete} and are renamed when complete; an interrupted
 * download resumes with an HTTP {@code Range} request (in the same call after a dropped
 * connection, or in the next call). The token ({@code HF_TOKEN} by default) is sent as a bearer
 * header and never logged; OkHttp drops it when a download redirects to another host (the CDN).
 */
public final class HubClient {

  private static final Logger log = LoggerFactory.getLogger(HubClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHA = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  private static final MediaType LFS_TYPE = MediaType.get("application/vnd.git-lfs+json");
  private static final MediaType NDJSON_TYPE = MediaType.get("application/x-ndjson");

  private final HttpUrl endpoint;
  private final Path cacheDir;
  private final String token;
  private final OkHttpClient http;
  private final PrintStream progress;
  private final int maxAttempts;

  private HubClient(Builder b) {
    this.endpoint = HttpUrl.get(b.endpoint.endsWith("/") ? b.endpoint : b.endpoint + "/");
    this.cacheDir = b.cacheDir;
    this.token = b.token == null || b.token.isBlank() ? null : b.token.strip();
    this.progress = b.progress;
    this.maxAttempts = b.maxAttempts;
    this.http = new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(20))
        .readTimeout(Duration.ofSeconds(60))
        .build();
  }

  /** A client configured from the environment: {@code HF_ENDPOINT}, {@code HF_HUB_CACHE}/{@code HF_HOME}, {@code HF_TOKEN}. */
  public static HubClient fromEnvironment() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The hub cache folder this client reads and writes ({@code .../huggingface/hub}). */
  public Path cacheDir() {
    return cacheDir;
  }

  // ------------------------------------------------------------------ cache

  /**
   * The local snapshot folder of a model at {@code main}, e.g. {@code Qwen/Qwen2.5-0.5B-Instruct}.
   *
   * @throws HubException if the model is not in the cache (the message names the folder looked in)
   */
  public Path resolveModel(String repoId) {
    return cached(repoId, RepoType.MODEL, "main").orElseThrow(() -> notCached(repoId, RepoType.MODEL));
  }

  /** The local snapshot folder of a dataset at {@code main}; see {@link #resolveModel}. */
  public Path resolveDataset(String repoId) {
    return cached(repoId, RepoType.DATASET, "main").orElseThrow(() -> notCached(repoId, RepoType.DATASET));
  }

  /**
   * The local snapshot of {@code repoId} at {@code revision} (a branch, a tag or a commit sha),
   * or empty when it is not cached. A branch is looked up in {@code refs/}; when the refs file is
   * missing and the repo holds exactly one snapshot, that one is used.
   */
  public Optional<Path> cached(String repoId, RepoType type, String revision) {
    requireRepoId(repoId);
    Path repo = cacheDir.resolve(type.cacheFolder(repoId));
    Path snapshots = repo.resolve("snapshots");
    if (!Files.isDirectory(snapshots)) {
      return Optional.empty();
    }
    if (SHA.matcher(revision).matches()) {
      Path p = snapshots.resolve(revision);
      return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
    }
    Path ref = repo.resolve("refs").resolve(revision);
    try {
      if (Files.isRegularFile(ref)) {
        String sha = Files.readString(ref, StandardCharsets.UTF_8).strip();
        Path p = snapshots.resolve(sha);
        return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
      }
      List<Path> all = new ArrayList<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(snapshots, Files::isDirectory)) {
        ds.forEach(all::add);
      }
      return all.size() == 1 ? Optional.of(all.get(0)) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read hub cache folder " + repo, e);
    }
  }

  /**
   * The cached snapshot, or (when {@code download} is true and it is not cached) a fresh
   * download of the whole repository at {@code main}.
   */
  public Path resolve(String repoId, RepoType type, boolean download) {
    Optional<Path> hit = cached(repoId, type, "main");
    if (hit.isPresent()) {
      return hit.get();
    }
    if (!download) {
      throw notCached(repoId, type);
    }
    return download(repoId, type, "main", List.of());
  }

  private HubException notCached(String repoId, RepoType type) {
    return new HubException(type.apiName + " '" + repoId + "' is not in the local Hugging Face cache ("
        + cacheDir.resolve(type.cacheFolder(repoId)) + "); download it first (--download, or huggingface-cli download "
        + (type == RepoType.DATASET ? "--repo-type dataset " : "") + repoId + ")");
  }

  // --------------------------------------------------------------- download

  /**
   * Downloads {@code repoId} at {@code revision} into the cache and returns its snapshot folder.
   * Files already complete are skipped; partial ones resume.
   *
   * @param patterns glob patterns of the files to fetch ({@code "*.json"}, {@code "*.safetensors"});
   *                 empty for every file
   */
  public Path download(String repoId, RepoType type, String revision, List<String> patterns) {
    requireRepoId(repoId);
    HttpUrl info = endpoint.newBuilder()
        .addPathSegment("api").addPathSegment(type.plural).addPathSegments(repoId)
        .addPathSegment("revision").addPathSegment(revision).build();
    JsonNode meta = getJson(info, repoId, type);
    String sha = meta.path("sha").asText("");
    if (!SHA.matcher(sha).matches()) {
      throw new HubException("the Hub answered " + info + " without a commit sha");
    }
    List<PathMatcher> matchers = patterns.stream()
        .map(p -> FileSystems.getDefault().getPathMatcher("glob:" + p)).toList();
    Path repo = cacheDir.resolve(type.cacheFolder(repoId));
    Path snapshot = repo.resolve("snapshots").resolve(sha);
    int n = 0;
    for (JsonNode sib : meta.path("siblings")) {
      String file = sib.path("rfilename").asText("");
      if (file.isEmpty() || !(matchers.isEmpty() || matchers.stream().anyMatch(m -> m.matches(Path.of(file))))) {
        continue;
      }
      Path target = safeResolve(snapshot, file);
      if (!Files.exists(target)) {
        HttpUrl url = endpoint.newBuilder()
            .addPathSegments(type.urlPrefix + repoId).addPathSegment("resolve").addPathSegment(sha)
            .addPathSegments(file).build();
        fetchFile(url, target, repoId + "/" + file, type);
      }
      n++;
    }
    if (n == 0) {
      throw new HubException(type.apiName + " '" + repoId + "' has no file matching " + patterns);
    }
    try {
      if (!SHA.matcher(revision).matches()) {
        Path ref = repo.resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
        Files.writeString(tmp, sha, StandardCharsets.UTF_8);
        Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write refs of " + repo, e);
    }
    return snapshot;
  }

  /** Fetches one file to {@code target} via {@code target.incomplete}, resuming after a dropped connection. */
  private void fetchFile(HttpUrl url, Path target, String label, RepoType type) {
    Path part = target.resolveSibling(target.getFileName() + ".incomplete");
    try {
      Files.createDirectories(target.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + target.getParent(), e);
    }
    IOException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        if (fetchOnce(url, part, label, type)) {
          Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          return;
        }
      } catch (IOException e) {
        last = e;
        log.warn("download of {} interrupted (attempt {}/{}): {}; resuming", label, attempt, maxAttempts, e.toString());
      }
    }
    throw new HubException("download of " + label + " failed after " + maxAttempts + " attempts; the partial file "
        + part + " is kept and the next run resumes it", 0, last);
  }

  /** One request; true when the file is complete. */
  private boolean fetchOnce(HttpUrl url, Path part, String label, RepoType type) throws IOException {
    long have = Files.exists(part) ? Files.size(part) : 0;
    Request.Builder rb = authorized(new Request.Builder().url(url));
    if (have > 0) {
      rb.header("Range", "bytes=" + have + "-");
    }
    try (Response r = http.newCall(rb.build()).execute()) {
      if (r.code() == 416 && have > 0) {
        return true; // the partial file already holds every byte
      }
      checkStatus(r, label, type);
      boolean append = r.code() == 206;
      if (!append) {
        have = 0; // the server ignored the range: start over
      }
      ResponseBody body = r.body();
      long total = body.contentLength() < 0 ? -1 : have + body.contentLength();
      try (InputStream in = body.byteStream();
           OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
               append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
        byte[] buf = new byte[1 << 16];
        long done = have;
        long lastReport = 0;
        for (int k; (k = in.read(buf)) > 0; ) {
          out.write(buf, 0, k);
          done += k;
          long now = System.nanoTime();
          if (progress != null && now - lastReport > 250_000_000L) {
            lastReport = now;
            reportProgress(label, done, total, false);
          }
        }
        if (progress != null) {
          reportProgress(label, done, total, true);
        }
        if (total >= 0 && done < total) {
          throw new IOException("connection closed after " + done + " of " + total + " bytes");
        }
      }
      return true;
    }
  }

  private void reportProgress(String label, long done, long total, boolean end) {
    String size = total > 0
        ? String.format("%.1f/%.1f MB (%d%%)", done / 1e6, total / 1e6, 100 * done / total)
        : String.format("%.1f MB", done / 1e6);
    progress.print("\rdownloading " + label + "  " + size + (end ? "\n" : ""));
    progress.flush();
  }

  // ----------------------------------------------------------------- upload

  /**
   * Creates the model repository {@code repoId} if it does not exist yet (an existing one is fine).
   */
  public void createRepo(String repoId, boolean privateRepo) {
    requireRepoId(repoId);
    ObjectNode body = JSON.createObjectNode();
    int slash = repoId.indexOf('/');
    body.put("name", slash < 0 ? repoId : repoId.substring(slash + 1));
    if (slash >= 0) {
      body.put("organization", repoId.substring(0, slash));
    }
    body.put("type", RepoType.MODEL.apiName);
    body.put("private", privateRepo);
    HttpUrl url = endpoint.newBuilder().addPathSegments("api/repos/create").build();
    try (Response r = http.newCall(authorized(new Request.Builder().url(url))
        .post(RequestBody.create(body.toString(), JSON_TYPE)).build()).execute()) {
      if (r.code() == 409) {
        return; // already exists
      }
      checkStatus(r, repoId, RepoType.MODEL);
    } catch (IOException e) {
      throw new HubException("cannot reach the Hub at " + endpoint + ": " + e.getMessage(), 0, e);
    }
  }

  /**
   * Uploads every file under {@code folder} (e.g. a checkpoint's {@code adapter_config.json} and
   * {@code adapter_model.safetensors}) to the model repo {@code repoId} on branch {@code main} as one
   * commit. The Hub decides per file (its {@code preupload} answer) whether it goes inline in the
   * commit (base64) or through Git LFS (a batch request, then a PUT of the bytes to the URL it gives).
   *
   * @return the commit's URL as the Hub reports it
   */
  public String upload(String repoId, Path folder, String commitMessage) {
    requireRepoId(repoId);
    List<Path> files;
    try (Stream<Path> s = Files.walk(folder)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + folder, e);
    }
    if (files.isEmpty()) {
      throw new HubException("nothing to upload: " + folder + " has no files");
    }
    try {
      // 1. preupload: which files must go through LFS
      ArrayNode pre = JSON.createArrayNode();
      for (Path f : files) {
        byte[] head = readHead(f, 512);
        pre.addObject().put("path", repoPath(folder, f)).put("size", Files.size(f))
            .put("sample", Base64.getEncoder().encodeToString(head));
      }
      ObjectNode preBody = JSON.createObjectNode();
      preBody.set("files", pre);
      HttpUrl preUrl = api(repoId, "preupload");
      JsonNode preAnswer = postJson(preUrl, preBody, repoId);
      Map<String, String> modes = new java.util.HashMap<>();
      for (JsonNode f : preAnswer.path("files")) {
        modes.put(f.path("path").asText(), f.path("uploadMode").asText("regular"));
      }
      // 2. LFS objects
      List<Path> lfs = files.stream().filter(f -> "lfs".equals(modes.get(repoPath(folder, f)))).toList();
      Map<Path, String> oids = new java.util.HashMap<>();
      for (Path f : lfs) {
        oids.put(f, sha256(f));
      }
      if (!lfs.isEmpty()) {
        uploadLfs(repoId, lfs, oids);
      }
      // 3. the commit, as NDJSON: a header line, then one line per file
      StringBuilder nd = new StringBuilder();
      ObjectNode header = JSON.createObjectNode();
      header.put("key", "header");
      header.putObject("value").put("summary", commitMessage).put("description", "");
      nd.append(header).append('\n');
      for (Path f : files) {
        ObjectNode line = JSON.createObjectNode();
        String path = repoPath(folder, f);
        if (oids.containsKey(f)) {
          line.put("key", "lfsFile");
          line.putObject("value").put("path", path).put("algo", "sha256").put("oid", oids.get(f)).put("size", Files.size(f));
        } else {
          line.put("key", "file");
          line.putObject("value").put("path", path).put("encoding", "base64")
              .put("content", Base64.getEncoder().encodeToString(Files.readAllBytes(f)));
        }
        nd.append(line).append('\n');
      }
      Request commit = authorized(new Request.Builder().url(api(repoId, "commit")))
          .post(RequestBody.create(nd.toString(), NDJSON_TYPE)).build();
      try (Response r = http.newCall(commit).execute()) {
        checkStatus(r, repoId, RepoType.MODEL);
        JsonNode answer = JSON.readTree(r.body().string());
        String commitUrl = answer.path("commitUrl").asText("");
        log.info("uploaded {} files of {} to {}: {}", files.size(), folder, repoId, commitUrl);
        return commitUrl;
      }
    } catch (IOException e) {
      throw new HubException("upload of " + folder + " to " + repoId + " failed: " + e.getMessage(), 0, e);
    }
  }

  private void uploadLfs(String repoId, List<Path> lfs, Map<Path, String> oids) throws IOException {
    ObjectNode batch = JSON.createObjectNode();
    batch.put("operation", "upload");
    batch.putArray("transfers").add("basic");
    batch.put("hash_algo", "sha256");
    ArrayNode objects = batch.putArray("objects");
    for (Path f : lfs) {
      objects.addObject().put("oid", oids.get(f)).put("size", Files.size(f));
    }
    HttpUrl url = endpoint.newBuilder().addPathSegments(repoId + ".git").addPathSegments("info/lfs/objects/batch").build();
    Request req = authorized(new Request.Builder().url(url))
        .header("Accept", LFS_TYPE.toString())
        .post(RequestBody.create(batch.toString(), LFS_TYPE)).build();
    JsonNode answer;
    try (Response r = http.newCall(req).execute()) {
      checkStatus(r, repoId, RepoType.MODEL);
      answer = JSON.readTree(r.body().string());
    }
    for (JsonNode obj : answer.path("objects")) {
      String oid = obj.path("oid").asText();
      Path f = lfs.stream().filter(p -> oids.get(p).equals(oid)).findFirst()
          .orElseThrow(() -> new HubException("LFS batch answered an object we did not send: " + oid));
      if (obj.has("error")) {
        throw new HubException("LFS refused " + f + ": " + obj.path("error").path("message").asText());
      }
      JsonNode upload = obj.path("actions").path("upload");
      if (upload.isMissingNode()) {
        continue; // the Hub already has these bytes
      }
      // the upload URL is pre-signed (often another host): no bearer token unless the Hub asks for headers
      Request.Builder put = new Request.Builder().url(upload.path("href").asText())
          .put(RequestBody.create(f.toFile(), MediaType.get("application/octet-stream")));
      upload.path("header").fields().forEachRemaining(h -> put.header(h.getKey(), h.getValue().asText()));
      try (Response r = http.newCall(put.build()).execute()) {
        checkStatus(r, f.getFileName().toString(), RepoType.MODEL);
      }
      JsonNode verify = obj.path("actions").path("verify");
      if (!verify.isMissingNode()) {
        Request.Builder vb = new Request.Builder().url(verify.path("href").asText())
            .post(RequestBody.create(JSON.createObjectNode().put("oid", oid).put("size", Files.size(f)).toString(), LFS_TYPE));
        verify.path("header").fields().forEachRemaining(h -> vb.header(h.getKey(), h.getValue().asText()));
        try (Response r = http.newCall(authorized(vb).build()).execute()) {
          checkStatus(r, f.getFileName().toString(), RepoType.MODEL);
        }
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private HttpUrl api(String repoId, String action) {
    return endpoint.newBuilder().addPathSegment("api").addPathSegment("models").addPathSegments(repoId)
        .addPathSegment(action).addPathSegment("main").build();
  }

  private JsonNode getJson(HttpUrl url, String repoId, RepoType type) {
    try (Response r = http.newCall(authorized(new Request.Builder().url(url)).build()).execute()) {
      checkStatus(r, repoId, type);
      return JSON.readTree(r.body().string());
    } catch (IOException e) {
      throw new HubException("cannot reach the Hub at " + endpoint + ": " + e.getMessage(), 0, e);
    }
  }

  private JsonNode postJson(HttpUrl url, JsonNode body, String repoId) throws IOException {
    Request req = authorized(new Request.Builder().url(url)).post(RequestBody.create(body.toString(), JSON_TYPE)).build();
    try (Response r = http.newCall(req).execute()) {
      checkStatus(r, repoId, RepoType.MODEL);
      return JSON.readTree(r.body().string());
    }
  }

  private Request.Builder authorized(Request.Builder b) {
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  /** Turns an HTTP failure into a message that says what to do; the body's "error" field is kept. */
  private void checkStatus(Response r, String what, RepoType type) throws IOException {
    if (r.isSuccessful()) {
      return;
    }
    String detail = "";
    try {
      String text = r.body().string();
      JsonNode j = JSON.readTree(text);
      detail = j != null && j.has("error") ? j.get("error").asText() : text;
    } catch (IOException | RuntimeException ignored) {
      // the body is only a hint
    }
    detail = detail.isBlank() ? "" : " (Hub says: " + truncate(detail, 200) + ")";
    String msg = switch (r.code()) {
      case 401 -> "401 Unauthorized for " + what + ": " + (token == null
          ? "no token sent; set HF_TOKEN (the repo may be private or gated)"
          : "the token in HF_TOKEN was refused (expired, or no access to this repo)");
      case 403 -> "403 Forbidden for " + what + ": the token has no access (gated repo: accept its terms on the Hub; "
          + "writes need a token with write permission)";
      case 404 -> "404 Not Found: " + type.apiName + " '" + what + "' does not exist on " + endpoint
          + " (check the id and the revision; private repos answer 404 without a token)";
      default -> "HTTP " + r.code() + " from " + r.request().url().host() + " for " + what;
    };
    throw new HubException(msg + detail, r.code(), null);
  }

  private static String truncate(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n) + "...";
  }

  private static Path safeResolve(Path root, String relative) {
    Path p = root.resolve(relative).normalize();
    if (!p.startsWith(root)) {
      throw new HubException("refusing a repo file name that leaves the snapshot folder: " + relative);
    }
    return p;
  }

  private static String repoPath(Path folder, Path f) {
    return folder.relativize(f).toString().replace('\\', '/');
  }

  private static byte[] readHead(Path f, int n) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      return in.readNBytes(n);
    }
  }

  private static String sha256(Path f) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int k; (k = in.read(buf)) > 0; ) {
        md.update(buf, 0, k);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void requireRepoId(String repoId) {
    if (repoId == null || !REPO_ID.matcher(repoId).matches() || repoId.contains("..") || repoId.contains("--")) {
      throw new IllegalArgumentException("invalid Hugging Face repo id '" + repoId + "' (expected Org/Name)");
    }
  }

  /** Options of a {@link HubClient}; every default comes from the environment. */
  public static final class Builder {
    private String endpoint = envOr("HF_ENDPOINT", "https://huggingface.co");
    private Path cacheDir = defaultCache();
    private String token = System.getenv("HF_TOKEN");
    private PrintStream progress = System.err;
    private int maxAttempts = 5;

    private Builder() {}

    /** The Hub's base URL ({@code HF_ENDPOINT}, default {@code https://huggingface.co}). */
    public Builder endpoint(String url) {
      this.endpoint = Objects.requireNonNull(url, "endpoint");
      return this;
    }

    /** The hub cache folder (default {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}). */
    public Builder cacheDir(Path dir) {
      this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
      return this;
    }

    /** The access token (default {@code $HF_TOKEN}); null for anonymous access. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Where download progress is printed (default stderr); null for silence. */
    public Builder progress(PrintStream out) {
      this.progress = out;
      return this;
    }

    /** How many times one file download is tried (resuming each time) before giving up; default 5. */
    public Builder maxAttempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, got " + n);
      }
      this.maxAttempts = n;
      return this;
    }

    public HubClient build() {
      return new HubClient(this);
    }

    private static Path defaultCache() {
      String hubCache = System.getenv("HF_HUB_CACHE");
      if (hubCache != null && !hubCache.isBlank()) {
        return Path.of(hubCache);
      }
      String home = System.getenv("HF_HOME");
      Path hf = home != null && !home.isBlank() ? Path.of(home)
          : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
      return hf.resolve("hub");
    }

    private static String envOr(String name, String fallback) {
      String v = System.getenv(name);
      return v == null || v.isBlank() ? fallback : v;
    }
  }
}
