package dev.art4j.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.mcp.toolset.McpServerConfig;
import dev.art4j.mcp.toolset.McpToolset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code art4j mcp}: look at and call the tools of any MCP server, or run the bundled math server.
 *
 * <pre>
 * art4j mcp list --stdio "npx -y @coo-quack/calc-mcp"
 * art4j mcp call --http http://127.0.0.1:3001/mcp --tool get-sum --args '{"a": 1, "b": 2}'
 * art4j mcp list --mcp-config ~/.cursor/mcp.json
 * art4j mcp serve-math [--http PORT]
 * </pre>
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
    description = "List and call the tools of MCP servers; serve the bundled math MCP server.",
    subcommands = {McpCommand.ListTools.class, McpCommand.CallTool.class, McpCommand.ServeMath.class})
public final class McpCommand {

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Which servers to talk to: exactly one of --stdio, --http, --sse, --mcp-config; shared by {@code mcp} and {@code scenarios}. */
  static final class ServerOptions {

    static final class Transport {
      @Option(names = "--stdio", paramLabel = "\"CMD ARGS\"", description = "Start the server as a child process speaking MCP over stdio.")
      String stdio;

      @Option(names = "--http", paramLabel = "URL", description = "Streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp")
      String http;

      @Option(names = "--sse", paramLabel = "URL", description = "Legacy HTTP+SSE endpoint, e.g. http://127.0.0.1:3001/sse")
      String sse;

      @Option(names = "--mcp-config", paramLabel = "FILE",
          description = "An mcpServers JSON file (Claude Desktop / Cursor / VS Code shape): every server in it, "
              + "${VAR} read from the environment.")
      Path config;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Transport transport;

    @Option(names = "--header", paramLabel = "\"NAME: VALUE\"", description = "HTTP header for --http/--sse (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "Environment variable for --stdio (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = "--allow", split = ",", paramLabel = "TOOL", description = "Only these tools (comma-separated).")
    List<String> allow = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30", description = "Time-out for listing and calls (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    McpServerConfig config() {
      if (transport.stdio != null) {
        return new McpServerConfig.Stdio("server", McpServerConfig.splitCommandLine(transport.stdio), pairs(env, '=', "--env"));
      }
      if (transport.http != null) {
        return new McpServerConfig.StreamableHttp("server", transport.http, pairs(headers, ':', "--header"));
      }
      return new McpServerConfig.Sse("server", transport.sse, pairs(headers, ':', "--header"));
    }

    McpToolset connect() {
      if (!(timeoutSeconds > 0 && timeoutSeconds <= 86_400)) {
        throw new IllegalArgumentException("--timeout must be a number of seconds in (0, 86400], got " + timeoutSeconds);
      }
      Duration timeout = Duration.ofMillis((long) (timeoutSeconds * 1000));
      McpToolset.Builder b = McpToolset.builder().callTimeout(timeout).listTimeout(timeout);
      if (transport.config != null) {
        if (!env.isEmpty() || !headers.isEmpty()) {
          throw new IllegalArgumentException("--env and --header apply to --stdio, --http and --sse; "
              + "with --mcp-config put them in the file");
        }
        b.config(transport.config);
      } else {
        b.server(config());
      }
      if (!allow.isEmpty()) {
        b.allow(allow);
      }
      return b.build();
    }

    /** {@link #connect()}, or null after printing a bad option or config file's one-line error on stderr (exit status 2). */
    McpToolset connectOrReport(String command) {
      try {
        return connect();
      } catch (IllegalArgumentException e) {
        System.err.println(command + ": " + e.getMessage());
        return null;
      }
    }

    private static Map<String, String> pairs(List<String> items, char separator, String option) {
      Map<String, String> map = new LinkedHashMap<>();
      for (String item : items) {
        int at = item.indexOf(separator);
        if (at <= 0) {
          throw new IllegalArgumentException(option + " " + item + ": expected " + (separator == '=' ? "NAME=VALUE" : "\"Name: value\""));
        }
        map.put(item.substring(0, at).trim(), item.substring(at + 1).trim());
      }
      return map;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Print the server's tools as JSON: [{name, description, parameters}].")
  static final class ListTools implements Callable<Integer> {
    @Mixin
    ServerOptions server;

    @Option(names = "--resources", description = "Print the resources instead of the tools.")
    boolean resources;

    @Override
    public Integer call() throws Exception {
      McpToolset tools = server.connectOrReport("art4j mcp list");
      if (tools == null) {
        return 2;
      }
      try (tools) {
        System.out.println(JSON.writeValueAsString(resources ? tools.resources() : tools.tools()));
      }
      return 0;
    }
  }

  @Command(name = "call", mixinStandardHelpOptions = true,
      description = "Call one tool and print {\"text\": ..., \"is_error\": ...}; the exit status is 0 either way.")
  static final class CallTool implements Callable<Integer> {
    @Mixin
    ServerOptions server;

    @Option(names = "--tool", required = true, paramLabel = "NAME")
    String tool;

    @Option(names = "--args", defaultValue = "{}", paramLabel = "JSON", description = "Arguments object (default: {}).")
    String args;

    @Override
    public Integer call() throws Exception {
      McpToolset tools = server.connectOrReport("art4j mcp call");
      if (tools == null) {
        return 2;
      }
      try (tools) {
        ToolResult result = tools.call(tool, args);
        System.out.println(JSON.writeValueAsString(result));
      }
      return 0;
    }
  }

  @Command(name = "serve-math", mixinStandardHelpOptions = true,
      description = "Run the bundled math MCP server: over stdio (default) or streamable HTTP on 127.0.0.1:PORT/mcp.")
  static final class ServeMath implements Callable<Integer> {
    @Option(names = "--http", paramLabel = "PORT", description = "Serve streamable HTTP on this port (0: any free port).")
    Integer httpPort;

    @Option(names = "--test-tools", description = "Add a sleep(seconds) tool, for time-out tests.")
    boolean testTools;

    @Override
    public Integer call() throws Exception {
      if (httpPort == null) {
        MathServer.serveStdio(testTools);
        return 0;
      }
      try (MathServer server = MathServer.startHttp(httpPort, testTools)) {
        System.out.println(server.url());
        System.out.flush();
        Thread.currentThread().join();
      }
      return 0;
    }
  }
}
