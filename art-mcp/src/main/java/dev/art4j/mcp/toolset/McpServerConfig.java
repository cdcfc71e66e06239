package dev.art4j.mcp.toolset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach one MCP server: a local process over stdio, a streamable HTTP endpoint, or a
 * legacy SSE endpoint. The {@code name} identifies the server in logs and error messages.
 * {@code toString()} shows the names of environment variables and headers but never their
 * values, which often hold API keys.
 */
public sealed interface McpServerConfig {

  /** Name of the server in logs and messages. */
  String name();

  /**
   * A server started as a child process speaking MCP over its stdin/stdout.
   *
   * @param command program and arguments, e.g. {@code ["npx", "-y", "@coo-quack/calc-mcp"]}
   * @param env     variables added to this process's environment
   * @param cwd     the working folder of the process, or null for this process's own
   */
  record Stdio(String name, List<String> command, Map<String, String> env, Path cwd) implements McpServerConfig {
    public Stdio {
      Objects.requireNonNull(name, "name");
      command = List.copyOf(command);
      if (command.isEmpty()) {
        throw new IllegalArgumentException("stdio server `" + name + "`: empty command");
      }
      env = Map.copyOf(env == null ? Map.of() : env);
    }

    /** A server started in this process's working folder. */
    public Stdio(String name, List<String> command, Map<String, String> env) {
      this(name, command, env, null);
    }

    @Override
    public String toString() {
      return "Stdio[name=" + name + ", command=" + command.get(0) + " (+" + (command.size() - 1) + " arguments), env="
          + env.keySet().stream().sorted().toList() + (cwd == null ? "" : ", cwd=" + cwd) + "]";
    }
  }

  /** A server behind a streamable HTTP endpoint (e.g. {@code http://127.0.0.1:3001/mcp}), with extra headers such as an API key. */
  record StreamableHttp(String name, String url, Map<String, String> headers) implements McpServerConfig {
    public StreamableHttp {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(url, "url");
      headers = Map.copyOf(headers == null ? Map.of() : headers);
    }

    @Override
    public String toString() {
      return "StreamableHttp[name=" + name + ", url=" + url + ", headers=" + headers.keySet().stream().sorted().toList() + "]";
    }
  }

  /** A server behind the legacy HTTP+SSE transport (e.g. {@code http://127.0.0.1:3001/sse}). */
  record Sse(String name, String url, Map<String, String> headers) implements McpServerConfig {
    public Sse {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(url, "url");
      headers = Map.copyOf(headers == null ? Map.of() : headers);
    }

    @Override
    public String toString() {
      return "Sse[name=" + name + ", url=" + url + ", headers=" + headers.keySet().stream().sorted().toList() + "]";
    }
  }

  /** A stdio server from one command line such as {@code "node server.js --flag 'a b'"} (single and double quotes group words). */
  static Stdio stdio(String name, String commandLine) {
    return new Stdio(name, splitCommandLine(commandLine), Map.of());
  }

  /** Splits a command line into words as a POSIX shell would for plain words and quotes (no variables, no globbing). */
  static List<String> splitCommandLine(String commandLine) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (int i = 0; i < commandLine.length(); i++) {
      char c = commandLine.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && quote == '"' && i + 1 < commandLine.length()) {
          word.append(commandLine.charAt(++i));
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (c == '\\' && i + 1 < commandLine.length()) {
        word.append(commandLine.charAt(++i));
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("unclosed " + quote + " quote in command line: " + commandLine);
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }
}
