package dev.art4j.mcp.toolset;

import dev.art4j.core.chat.ArgumentValidator;
import dev.art4j.core.chat.ClosestNames;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.json.JsonAnyOfSchema;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tools of one or more MCP servers as a {@link Toolset}, built on langchain4j-mcp.
 *
 * <pre>{@code
 * try (McpToolset tools = McpToolset.builder()
 *     .stdio("math", List.of("java", "-cp", cp, "dev.art4j.mcp.math.MathServer"))
 *     .streamableHttp("search", "https://example.com/mcp", Map.of("Authorization", "Bearer " + key))
 *     .allow("add", "subtract", "multiply", "division", "search")
 *     .build()) {
 *   ToolResult r = tools.call("division", "{\"a\": 7, \"b\": 2}");   // ok("3.5")
 * }
 * }</pre>
 *
 * <p>The model sees only the tools that pass the allow-list and the filter. {@link #call} never
 * throws: an unknown name ("Unknown tool `devide`. Did you mean `division`? Available: ..."),
 * arguments that are not JSON or do not fit the tool's input schema (the message names the
 * field), a tool-side error, a time-out, or a stdio server that died (it is restarted; the
 * failing call says so, the next one runs on the new process) all come back as error results
 * the model can read and learn from. Results longer than {@code maxResultChars} are cut with a
 * note saying so. Thread-safe: concurrent rollouts may share one toolset.
 *
 * <p>A stdio server's stderr goes to SLF4J at INFO, logger
 * {@code dev.art4j.mcp.toolset.StdioProcessTransport}, each line prefixed with {@code [server name]};
 * its last lines are added to the error when the server fails to start.
 */
public final class McpToolset implements Toolset {

  private static final Logger log = LoggerFactory.getLogger(McpToolset.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<ServerConnection> connections;
  private final Map<String, Entry> byName;
  private final List<ToolSpec> tools;
  private final int maxResultChars;
  private final ExecutorService executor;
  private final Map<String, String> secrets;

  private record Entry(ToolSpec spec, ServerConnection connection) {}

  private McpToolset(Builder b) {
    this.maxResultChars = b.maxResultChars;
    // longest first, so that a secret containing another is replaced whole
    Map<String, String> sorted = new LinkedHashMap<>();
    b.secrets.entrySet().stream().sorted((x, y) -> y.getKey().length() - x.getKey().length())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    this.secrets = Collections.unmodifiableMap(sorted);
    AtomicInteger threads = new AtomicInteger();
    this.executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "art4j-mcp-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    List<ServerConnection> started = new ArrayList<>();
    try {
      Set<String> names = new LinkedHashSet<>();
      for (McpServerConfig config : b.servers) {
        if (!names.add(config.name())) {
          throw new IllegalArgumentException("two MCP servers are named `" + config.name() + "`");
        }
        started.add(new ServerConnection(config, b.callTimeout, b.listTimeout, executor, secrets));
      }
      Map<String, Entry> all = new LinkedHashMap<>();
      for (ServerConnection c : started) {
        List<ToolSpecification> listed = c.listTools();
        Set<String> serverAllow = b.serverAllow.get(c.name());
        if (serverAllow != null) {
          Set<String> offered = new LinkedHashSet<>();
          listed.forEach(t -> offered.add(t.name()));
          List<String> missing = serverAllow.stream().filter(n -> !offered.contains(n)).toList();
          if (!missing.isEmpty()) {
            throw new IllegalArgumentException("MCP server `" + c.name() + "`: allow-list names tools it does not offer: "
                + missing + "; it offers: " + String.join(", ", offered));
          }
        }
        for (ToolSpecification t : listed) {
          if (serverAllow != null && !serverAllow.contains(t.name())) {
            continue; // hidden before name clashes are settled, so it cannot hide another server's tool
          }
          ToolSpec spec = toToolSpec(t, c.inputSchema(t.name()));
          if (all.containsKey(spec.name())) {
            log.warn("tool `{}` of MCP server `{}` hidden: server `{}` has one of the same name", spec.name(),
                c.name(), all.get(spec.name()).connection().name());
            continue;
          }
          all.put(spec.name(), new Entry(spec, c));
        }
      }
      if (b.allow != null) {
        List<String> missing = b.allow.stream().filter(n -> !all.containsKey(n)).toList();
        if (!missing.isEmpty()) {
          throw new IllegalArgumentException("allow-list names tools that no server offers: " + missing
              + "; available: " + String.join(", ", all.keySet()));
        }
      }
      Map<String, Entry> visible = new LinkedHashMap<>();
      for (Entry e : all.values()) {
        if ((b.allow == null || b.allow.contains(e.spec().name())) && b.filter.test(e.spec())) {
          visible.put(e.spec().name(), e);
        }
      }
      this.connections = List.copyOf(started);
      this.byName = Collections.unmodifiableMap(visible);
      this.tools = visible.values().stream().map(Entry::spec).toList();
      log.info("MCP toolset: {} of {} tools from {} server(s): {}", tools.size(), all.size(), started.size(),
          String.join(", ", visible.keySet()));
    } catch (RuntimeException e) {
      started.forEach(ServerConnection::close);
      executor.shutdownNow();
      throw withoutSecrets(e, secrets);
    }
  }

  /** {@code e}, or when its message shows a value taken from an environment variable, a copy showing {@code ${VAR}} instead. */
  private static RuntimeException withoutSecrets(RuntimeException e, Map<String, String> secrets) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t).append('\n');
    }
    if (secrets.isEmpty() || McpConfigFile.scrub(all.toString(), secrets).contentEquals(all)) {
      return e;
    }
    // the cause chain is dropped: its messages carry the secret too
    RuntimeException clean = e instanceof IllegalArgumentException
        ? new IllegalArgumentException(McpConfigFile.scrub(e.getMessage(), secrets))
        : new McpServerException(McpConfigFile.scrub(String.valueOf(e.getMessage()), secrets), null);
    clean.setStackTrace(e.getStackTrace());
    return clean;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The servers of an {@code mcpServers} JSON file (the shape Claude Desktop, Cursor and VS Code
   * use), with {@code ${VAR}} references filled in from the environment and each server's
   * {@code allow} list applied; the other options at their defaults. See {@link Builder#config(Path)}.
   *
   * @throws IllegalArgumentException naming the file, server and field of a bad entry
   */
  public static McpToolset fromConfig(Path file) {
    return builder().config(file).build();
  }

  @Override
  public List<ToolSpec> tools() {
    return tools;
  }

  @Override
  public ToolResult call(String name, String argumentsJson) {
    Entry entry = name == null ? null : byName.get(name);
    if (entry == null) {
      return ToolResult.error(unknownToolMessage(String.valueOf(name)));
    }
    JsonNode args;
    try {
      args = argumentsJson == null || argumentsJson.isBlank() ? JSON.createObjectNode() : JSON.readTree(argumentsJson);
    } catch (JsonProcessingException e) {
      return ToolResult.error("Arguments for tool `" + name + "` are not valid JSON (" + e.getOriginalMessage()
          + "): " + abbreviate(argumentsJson, 200));
    }
    if (!args.isObject()) {
      return ToolResult.error("Arguments for tool `" + name + "` must be a JSON object, got: " + abbreviate(argumentsJson, 200));
    }
    List<String> problems = ArgumentValidator.validate(entry.spec().parameters(), args);
    if (!problems.isEmpty()) {
      return ToolResult.error("Invalid arguments for tool `" + name + "`: " + String.join("; ", problems)
          + ". Expected arguments: " + entry.spec().parameters());
    }
    ToolResult r = entry.connection().call(name, args.toString());
    if (!secrets.isEmpty()) {
      // what a tool returns reaches the model, the trajectory and the run store: no secret goes there
      r = new ToolResult(McpConfigFile.scrub(r.text(), secrets), r.isError());
    }
    return truncate(r);
  }

  /** The resources of every server that has some (servers without resources add nothing). */
  public List<McpResourceInfo> resources() {
    List<McpResourceInfo> all = new ArrayList<>();
    for (ServerConnection c : connections) {
      all.addAll(c.listResources());
    }
    return all;
  }

  /** The text of a resource listed by {@link #resources()}. */
  public String readResource(String uri) {
    for (ServerConnection c : connections) {
      for (McpResourceInfo r : c.listResources()) {
        if (r.uri().equals(uri)) {
          return c.readResource(uri);
        }
      }
    }
    throw new IllegalArgumentException("no MCP server of this toolset lists the resource " + uri);
  }

  /** The names of the servers, in the order they were added. */
  public List<String> servers() {
    return connections.stream().map(ServerConnection::name).toList();
  }

  /** The name of the server that serves {@code tool}, if the model is shown that tool. */
  public Optional<String> server(String tool) {
    Entry e = tool == null ? null : byName.get(tool);
    return e == null ? Optional.empty() : Optional.of(e.connection().name());
  }

  /** How many times the stdio servers were restarted after dying, all servers together. */
  public int restarts() {
    return connections.stream().mapToInt(ServerConnection::restarts).sum();
  }

  ServerConnection connection(String server) {
    return connections.stream().filter(c -> c.name().equals(server)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no server named " + server));
  }

  private String unknownToolMessage(String name) {
    List<String> names = new ArrayList<>(byName.keySet());
    List<String> close = ClosestNames.closest(name, names, 3);
    StringBuilder msg = new StringBuilder("Unknown tool `").append(name).append("`.");
    if (!close.isEmpty()) {
      msg.append(" Did you mean ");
      for (int i = 0; i < close.size(); i++) {
        msg.append(i == 0 ? "" : i == close.size() - 1 ? " or " : ", ").append('`').append(close.get(i)).append('`');
      }
      msg.append('?');
    }
    msg.append(" Available: ").append(names.isEmpty() ? "(none)" : String.join(", ", names)).append('.');
    return msg.toString();
  }

  private ToolResult truncate(ToolResult r) {
    String text = r.text();
    if (text.length() <= maxResultChars) {
      return r;
    }
    int cut = maxResultChars;
    if (Character.isHighSurrogate(text.charAt(cut - 1))) {
      cut--;
    }
    return new ToolResult(text.substring(0, cut) + "\n[truncated: the result has " + text.length()
        + " characters; only the first " + cut + " are shown]", r.isError());
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }

  /**
   * The tool as the model sees it: {@code rawSchema} (what the server sent, {@code $ref}s,
   * {@code $defs} and {@code oneOf}s kept) when known, else langchain4j's reading of it.
   */
  static ToolSpec toToolSpec(ToolSpecification t, JsonNode rawSchema) {
    if (rawSchema != null) {
      return new ToolSpec(t.name(), t.description(), rawSchema);
    }
    JsonNode schema = null;
    if (t.parameters() != null) {
      schema = JSON.valueToTree(JsonSchemaElementUtils.toMap(t.parameters(), false));
      restoreAdditionalProperties(t.parameters(), schema);
    }
    return new ToolSpec(t.name(), t.description(), schema);
  }

  /** langchain4j's {@code toMap} drops {@code additionalProperties} unless strict; put back what the server declared. */
  private static void restoreAdditionalProperties(JsonSchemaElement element, JsonNode node) {
    if (node == null || !node.isObject()) {
      return;
    }
    if (element instanceof JsonObjectSchema o) {
      if (o.additionalProperties() != null) {
        ((ObjectNode) node).put("additionalProperties", o.additionalProperties().booleanValue());
      }
      o.properties().forEach((name, child) -> restoreAdditionalProperties(child, node.path("properties").get(name)));
    } else if (element instanceof JsonArraySchema a) {
      restoreAdditionalProperties(a.items(), node.get("items"));
    } else if (element instanceof JsonAnyOfSchema any && node.get("anyOf") != null) {
      for (int i = 0; i < any.anyOf().size(); i++) {
        restoreAdditionalProperties(any.anyOf().get(i), node.get("anyOf").get(i));
      }
    }
  }

  @Override
  public void close() {
    for (ServerConnection c : connections) {
      c.close();
    }
    executor.shutdownNow();
  }

  /** Options of a {@link McpToolset}; at least one server. */
  public static final class Builder {
    private final List<McpServerConfig> servers = new ArrayList<>();
    private final Map<String, Set<String>> serverAllow = new LinkedHashMap<>();
    private final Map<String, String> secrets = new LinkedHashMap<>();
    private Set<String> allow;
    private Predicate<ToolSpec> filter = t -> true;
    private Duration callTimeout = Duration.ofSeconds(30);
    private Duration listTimeout = Duration.ofSeconds(30);
    private int maxResultChars = 16_000;

    private Builder() {}

    public Builder server(McpServerConfig server) {
      servers.add(Objects.requireNonNull(server, "server"));
      return this;
    }

    /** A stdio server: {@code command} is the program followed by its arguments. */
    public Builder stdio(String name, List<String> command) {
      return server(new McpServerConfig.Stdio(name, command, Map.of()));
    }

    /** A stdio server with extra environment variables. */
    public Builder stdio(String name, List<String> command, Map<String, String> env) {
      return server(new McpServerConfig.Stdio(name, command, env));
    }

    /** A streamable HTTP server. */
    public Builder streamableHttp(String name, String url) {
      return server(new McpServerConfig.StreamableHttp(name, url, Map.of()));
    }

    /** A streamable HTTP server, with headers sent on every request (e.g. {@code Authorization}). */
    public Builder streamableHttp(String name, String url, Map<String, String> headers) {
      return server(new McpServerConfig.StreamableHttp(name, url, headers));
    }

    /** A legacy HTTP+SSE server. */
    public Builder sse(String name, String url, Map<String, String> headers) {
      return server(new McpServerConfig.Sse(name, url, headers));
    }

    /**
     * Adds the servers of an {@code mcpServers} file:
     *
     * <pre>{@code
     * {"mcpServers": {
     *    "calc":   {"command": "npx", "args": ["-y", "@coo-quack/calc-mcp"], "env": {"TZ": "UTC"}, "allow": ["math"]},
     *    "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${API_KEY}"}}}}
     * }</pre>
     *
     * Stdio entries take {@code command}, {@code args}, {@code env}, {@code cwd} (relative to the
     * file's folder); HTTP entries {@code url}, {@code headers} and {@code type} ({@code http},
     * the default for a {@code url}, or {@code sse}). {@code ${VAR}}, {@code ${env:VAR}} and
     * {@code ${VAR:-default}} are read from the environment; the values never appear in this
     * library's logs or error messages (which show {@code ${VAR}}). {@code allow} limits the
     * tools of that server ({@link #allow(String, List)}), {@code "disabled": true} skips an entry,
     * VS Code's top-level {@code "servers"} is accepted too, and other clients' extra fields are
     * ignored with a warning.
     *
     * @throws IllegalArgumentException naming the file, server and field of a bad entry
     */
    public Builder config(Path file) {
      return config(file, System.getenv());
    }

    /** As {@link #config(Path)}, with {@code ${VAR}} read from {@code environment}. */
    public Builder config(Path file, Map<String, String> environment) {
      McpConfigFile.Parsed parsed = McpConfigFile.read(file, environment);
      for (McpConfigFile.Server s : parsed.servers()) {
        server(s.config());
        if (s.allow() != null) {
          allow(s.config().name(), s.allow());
        }
      }
      secrets.putAll(parsed.secrets());
      return this;
    }

    /**
     * Shows the model only these tools of server {@code server} (its other tools are hidden, and
     * cannot hide a same-named tool of a later server); a name the server does not offer fails
     * the build. Combines with {@link #allow(String...)} and the filter.
     */
    public Builder allow(String server, List<String> names) {
      serverAllow.computeIfAbsent(Objects.requireNonNull(server, "server"), k -> new LinkedHashSet<>()).addAll(names);
      return this;
    }

    /** Shows the model only these tools (and only those that also pass the filter); a name no server offers fails the build. */
    public Builder allow(String... names) {
      return allow(Arrays.asList(names));
    }

    /** As {@link #allow(String...)}. */
    public Builder allow(List<String> names) {
      if (allow == null) {
        allow = new LinkedHashSet<>();
      }
      allow.addAll(names);
      return this;
    }

    /** Shows the model only the tools that pass this test (combined with earlier filters by "and"). */
    public Builder filter(Predicate<ToolSpec> filter) {
      this.filter = this.filter.and(Objects.requireNonNull(filter, "filter"));
      return this;
    }

    /** Longest a tool call may take before it is abandoned as a time-out (default 30 s). */
    public Builder callTimeout(Duration timeout) {
      this.callTimeout = positive(timeout, "callTimeout");
      return this;
    }

    /** Longest connecting, listing tools or resources may take (default 30 s). */
    public Builder listTimeout(Duration timeout) {
      this.listTimeout = positive(timeout, "listTimeout");
      return this;
    }

    /** Results longer than this many characters are cut, with a note (default 16,000). */
    public Builder maxResultChars(int max) {
      if (max < 100) {
        throw new IllegalArgumentException("maxResultChars must be at least 100, got " + max);
      }
      this.maxResultChars = max;
      return this;
    }

    /** Starts or connects to every server and lists their tools. */
    public McpToolset build() {
      if (servers.isEmpty()) {
        throw new IllegalStateException("an McpToolset needs at least one server");
      }
      for (String server : serverAllow.keySet()) {
        if (servers.stream().noneMatch(s -> s.name().equals(server))) {
          throw new IllegalArgumentException("allow-list for MCP server `" + server + "`, which was not added");
        }
      }
      return new McpToolset(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
