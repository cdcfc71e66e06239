package dev.art4j.mcp.toolset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the {@code mcpServers} JSON file that Claude Desktop, Cursor, Claude Code and VS Code
 * keep their MCP servers in:
 *
 * <pre>{@code
 * {"mcpServers": {
 *    "calc":   {"command": "npx", "args": ["-y", "@coo-quack/calc-mcp"], "env": {"TZ": "UTC"}, "cwd": "tools"},
 *    "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${API_KEY}"}},
 *    "legacy": {"type": "sse", "url": "http://127.0.0.1:3001/sse", "allow": ["echo"]}}}
 * }</pre>
 *
 * <p>VS Code's top-level {@code "servers"} is read the same way. Without {@code type}, an entry
 * with {@code command} is stdio and one with {@code url} is streamable HTTP; {@code type} may be
 * {@code stdio}, {@code http} (also spelt {@code streamable-http}, {@code streamableHttp}) or
 * {@code sse}. {@code ${VAR}}, {@code ${env:VAR}} and {@code ${VAR:-default}} in {@code command},
 * {@code args}, {@code env}, {@code cwd}, {@code url} and {@code headers} are replaced from the
 * environment; a variable that is not set (and has no default) is an error naming the server
 * and field. A relative {@code cwd} is relative to the file's folder. {@code allow} (an ART4J
 * addition) limits the tools of that server; {@code "disabled": true} skips the entry. Other
 * fields that other clients write ({@code autoApprove}, {@code timeout}, ...) are ignored with a
 * warning naming them, never their values.
 */
final class McpConfigFile {

  private static final Logger log = LoggerFactory.getLogger(McpConfigFile.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Set<String> KNOWN = Set.of("type", "command", "args", "env", "cwd", "url", "headers", "allow",
      "disabled");
  /** Values this short are common words and digits: not worth hiding from error messages. */
  private static final int MIN_SECRET_CHARS = 4;

  /** One server of the file, and its allow-list (null: every tool). */
  record Server(McpServerConfig config, List<String> allow) {}

  /**
   * What the file declares.
   *
   * @param secrets the values that came from environment variables, longest first, mapped to
   *                the {@code ${VAR}} they came from: error messages show the latter
   */
  record Parsed(List<Server> servers, Map<String, String> secrets) {}

  private final Path file;
  private final Map<String, String> environment;
  private final Map<String, String> secrets = new LinkedHashMap<>();

  private McpConfigFile(Path file, Map<String, String> environment) {
    this.file = file;
    this.environment = environment;
  }

  /**
   * Reads {@code file}, expanding variables from {@code environment}.
   *
   * @throws IllegalArgumentException naming the file, the server and the field at fault
   */
  static Parsed read(Path file, Map<String, String> environment) {
    return new McpConfigFile(file, environment).parse();
  }

  private Parsed parse() {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a JSON object with \"mcpServers\"");
    }
    JsonNode servers = root.has("mcpServers") ? root.get("mcpServers") : root.get("servers");
    String key = root.has("mcpServers") ? "mcpServers" : "servers";
    if (servers == null) {
      throw new IllegalArgumentException(file + ": no \"mcpServers\" object (fields: "
          + String.join(", ", iterable(root.fieldNames())) + ")");
    }
    if (!servers.isObject()) {
      throw new IllegalArgumentException(file + ": \"" + key + "\" must be an object of servers by name, got "
          + kind(servers));
    }
    List<Server> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = servers.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Server s = server(e.getKey(), e.getValue());
      if (s != null) {
        out.add(s);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": \"" + key + "\" has no enabled server");
    }
    Map<String, String> longestFirst = new LinkedHashMap<>();
    secrets.entrySet().stream().sorted((a, b) -> b.getKey().length() - a.getKey().length())
        .forEach(e -> longestFirst.put(e.getKey(), e.getValue()));
    return new Parsed(List.copyOf(out), longestFirst);
  }

  private Server server(String name, JsonNode node) {
    if (name.isBlank()) {
      throw new IllegalArgumentException(file + ": a server has an empty name");
    }
    if (!node.isObject()) {
      throw bad(name, null, "must be an object with \"command\" or \"url\", got " + kind(node));
    }
    Set<String> unknown = new TreeSet<>();
    node.fieldNames().forEachRemaining(f -> {
      if (!KNOWN.contains(f)) {
        unknown.add(f);
      }
    });
    if (!unknown.isEmpty()) {
      log.warn("{}: server \"{}\": ignoring field(s) {}", file, name, unknown);
    }
    if (node.has("disabled")) {
      if (!node.get("disabled").isBoolean()) {
        throw bad(name, "disabled", "must be true or false, got " + kind(node.get("disabled")));
      }
      if (node.get("disabled").booleanValue()) {
        log.info("{}: server \"{}\" is disabled; skipped", file, name);
        return null;
      }
    }
    String type = node.has("type") ? text(name, "type", node.get("type")).toLowerCase() : null;
    boolean hasCommand = node.has("command");
    boolean hasUrl = node.has("url");
    if (type == null) {
      if (hasCommand == hasUrl) {
        throw bad(name, null, hasCommand ? "has both \"command\" and \"url\"; give one, or a \"type\""
            : "needs \"command\" (a stdio server) or \"url\" (an HTTP server)");
      }
      type = hasCommand ? "stdio" : "http";
    }
    List<String> allow = node.has("allow") ? strings(name, "allow", node.get("allow"), false) : null;
    if (allow != null && allow.isEmpty()) {
      throw bad(name, "allow", "is empty: the server would offer no tools (use \"disabled\": true to skip it)");
    }
    McpServerConfig config;
    switch (type) {
      case "stdio" -> {
        if (!hasCommand) {
          throw bad(name, "command", "is missing (type \"stdio\")");
        }
        forbid(name, node, "stdio", "url", "headers");
        List<String> command = new ArrayList<>();
        command.add(expand(name, "command", text(name, "command", node.get("command"))));
        if (command.get(0).isBlank()) {
          throw bad(name, "command", "is empty");
        }
        if (node.has("args")) {
          command.addAll(strings(name, "args", node.get("args"), true));
        }
        Map<String, String> env = node.has("env") ? map(name, "env", node.get("env")) : Map.of();
        Path cwd = null;
        if (node.has("cwd")) {
          cwd = file.toAbsolutePath().getParent().resolve(expand(name, "cwd", text(name, "cwd", node.get("cwd"))));
          if (!Files.isDirectory(cwd)) {
            throw bad(name, "cwd", "is not a folder: " + scrub(cwd.toString()));
          }
        }
        config = new McpServerConfig.Stdio(name, command, env, cwd);
      }
      case "http", "streamable-http", "streamablehttp", "streamable_http", "sse" -> {
        if (!hasUrl) {
          throw bad(name, "url", "is missing (type \"" + type + "\")");
        }
        forbid(name, node, type, "command", "args", "env", "cwd");
        String url = expand(name, "url", text(name, "url", node.get("url")));
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
          throw bad(name, "url", "must start with http:// or https://, got " + scrub(url));
        }
        Map<String, String> headers = node.has("headers") ? map(name, "headers", node.get("headers")) : Map.of();
        config = type.equals("sse") ? new McpServerConfig.Sse(name, url, headers)
            : new McpServerConfig.StreamableHttp(name, url, headers);
      }
      default -> throw bad(name, "type", "must be \"stdio\", \"http\" or \"sse\", got \"" + type + "\"");
    }
    return new Server(config, allow);
  }

  private void forbid(String name, JsonNode node, String type, String... fields) {
    for (String f : fields) {
      if (node.has(f)) {
        throw bad(name, f, "does not apply to a \"" + type + "\" server");
      }
    }
  }

  private String text(String server, String field, JsonNode v) {
    if (!v.isTextual()) {
      throw bad(server, field, "must be a string, got " + kind(v));
    }
    return v.textValue();
  }

  private List<String> strings(String server, String field, JsonNode v, boolean expand) {
    if (!v.isArray()) {
      throw bad(server, field, "must be an array of strings, got " + kind(v));
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      String where = field + "[" + i + "]";
      String s = text(server, where, v.get(i));
      out.add(expand ? expand(server, where, s) : s);
    }
    return out;
  }

  private Map<String, String> map(String server, String field, JsonNode v) {
    if (!v.isObject()) {
      throw bad(server, field, "must be an object of strings, got " + kind(v));
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String where = field + "." + e.getKey();
      JsonNode value = e.getValue();
      // clients accept numbers and booleans here ("PORT": 3001) and pass them on as text
      if (!value.isTextual() && !value.isNumber() && !value.isBoolean()) {
        throw bad(server, where, "must be a string, got " + kind(value));
      }
      out.put(e.getKey(), expand(server, where, value.asText()));
    }
    return out;
  }

  /** Replaces every {@code ${VAR}} of {@code value}; the values put in are remembered as secrets. */
  private String expand(String server, String field, String value) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String variable = m.group(1);
      String v = environment.get(variable);
      if (v == null) {
        if (m.group(2) == null) {
          throw bad(server, field, "environment variable " + variable + " is not set");
        }
        v = m.group(2);
      } else if (v.length() >= MIN_SECRET_CHARS) {
        secrets.putIfAbsent(v, "${" + variable + "}");
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    if (sb.indexOf("${") >= 0) {
      throw bad(server, field, "has a malformed ${...} reference (expected ${NAME}, ${env:NAME} or ${NAME:-default})");
    }
    return sb.toString();
  }

  private String scrub(String text) {
    return scrub(text, secrets);
  }

  /** {@code text} with every secret value replaced by the {@code ${VAR}} it came from. */
  static String scrub(String text, Map<String, String> secrets) {
    if (text == null) {
      return null;
    }
    for (Map.Entry<String, String> e : secrets.entrySet()) {
      text = text.replace(e.getKey(), e.getValue());
    }
    return text;
  }

  private IllegalArgumentException bad(String server, String field, String problem) {
    return new IllegalArgumentException(file + ": server \"" + server + "\""
        + (field == null ? "" : ", field \"" + field + "\"") + ": " + problem);
  }

  private static String kind(JsonNode v) {
    return v.isNull() ? "null" : v.getNodeType().toString().toLowerCase();
  }

  private static <T> Iterable<T> iterable(Iterator<T> it) {
    Set<T> all = new LinkedHashSet<>();
    it.forEachRemaining(all::add);
    return all;
  }
}
