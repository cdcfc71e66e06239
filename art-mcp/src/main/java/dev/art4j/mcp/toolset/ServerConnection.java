package dev.art4j.mcp.toolset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.ToolResult;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.exception.ToolArgumentsException;
import dev.langchain4j.exception.ToolExecutionException;
import dev.langchain4j.mcp.client.DefaultMcpClient;
import dev.langchain4j.mcp.client.McpClient;
import dev.langchain4j.mcp.client.McpReadResourceResult;
import dev.langchain4j.mcp.client.McpResource;
import dev.langchain4j.mcp.client.McpResourceContents;
import dev.langchain4j.mcp.client.McpTextResourceContents;
import dev.langchain4j.mcp.client.transport.McpTransport;
import dev.langchain4j.mcp.client.transport.http.HttpMcpTransport;
import dev.langchain4j.mcp.client.transport.http.StreamableHttpMcpTransport;
import dev.langchain4j.service.tool.ToolExecutionResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One live connection to one MCP server through langchain4j's {@link DefaultMcpClient}, with
 * what that client lacks: every request bounded by our own time-out, a recognisable time-out
 * answer, and restart of a stdio server whose process has died.
 *
 * <p>langchain4j answers a time-out with the plain text of {@code toolExecutionTimeoutErrorMessage};
 * we set it to {@link #TIMEOUT_SENTINEL} and turn it into an error result. Stdio servers run
 * under our own {@link StdioProcessTransport}, which fails pending requests as soon as the
 * process exits; a call that fails on a dead process restarts it and says so.
 */
final class ServerConnection implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);
  static final String TIMEOUT_SENTINEL = "art4j-mcp: tool execution timed out";
  private static final long POLL_MILLIS = 50;

  private final McpServerConfig config;
  private final Map<String, String> secrets;
  private final Duration callTimeout;
  private final Duration listTimeout;
  private final ExecutorService executor;
  private final Map<String, JsonNode> inputSchemas = InputSchemaRecorder.newStore();
  private volatile Live live;
  private volatile boolean closed;
  private int restarts;

  /** A started client and, for stdio, its transport (which owns the process). */
  private record Live(McpClient client, StdioProcessTransport stdio, int generation) {
    Process process() {
      return stdio == null ? null : stdio.process();
    }

    boolean dead() {
      Process p = process();
      return p != null && !p.isAlive();
    }
  }

  ServerConnection(McpServerConfig config, Duration callTimeout, Duration listTimeout, ExecutorService executor) {
    this(config, callTimeout, listTimeout, executor, Map.of());
  }

  /** With {@code secrets}: values from environment variables that a stdio server's logs and errors show as {@code ${VAR}}. */
  ServerConnection(McpServerConfig config, Duration callTimeout, Duration listTimeout, ExecutorService executor,
      Map<String, String> secrets) {
    this.secrets = secrets;
    this.config = config;
    this.callTimeout = callTimeout;
    this.listTimeout = listTimeout;
    this.executor = executor;
    this.live = start(0);
  }

  String name() {
    return config.name();
  }

  McpServerConfig config() {
    return config;
  }

  /** How many times the server process was restarted. */
  synchronized int restarts() {
    return restarts;
  }

  /** The pid of the stdio server process, or -1 for HTTP servers. */
  long pid() {
    Process p = live.process();
    return p == null ? -1 : p.pid();
  }

  /** Whether the current stdio server process is alive (always true for HTTP servers). */
  boolean running() {
    return !live.dead();
  }

  /** The last lines the stdio server wrote to stderr ("" for HTTP servers). */
  String stderrTail() {
    Live l = live;
    return l.stdio() == null ? "" : l.stdio().stderrTail();
  }

  // HttpMcpTransport (legacy HTTP+SSE) is deprecated for removal in langchain4j, but servers still speak it
  @SuppressWarnings("removal")
  private Live start(int generation) {
    McpTransport transport;
    if (config instanceof McpServerConfig.Stdio s) {
      transport = new StdioProcessTransport(s, secrets);
    } else if (config instanceof McpServerConfig.StreamableHttp h) {
      transport = StreamableHttpMcpTransport.builder().url(h.url()).customHeaders(h.headers())
          .timeout(callTimeout.plus(listTimeout)).build();
    } else {
      McpServerConfig.Sse h = (McpServerConfig.Sse) config;
      transport = HttpMcpTransport.builder().sseUrl(h.url()).customHeaders(h.headers())
          .timeout(callTimeout.plus(listTimeout)).build();
    }
    Callable<McpClient> connect = () -> new DefaultMcpClient.Builder()
        .key(config.name())
        .clientName("art4j")
        .clientVersion("0.1.0")
        .transport(new InputSchemaRecorder(transport, inputSchemas))
        .initializationTimeout(listTimeout)
        .toolExecutionTimeout(callTimeout)
        .toolExecutionTimeoutErrorMessage(TIMEOUT_SENTINEL)
        .resourcesTimeout(listTimeout)
        .promptsTimeout(listTimeout)
        // we restart dead stdio servers ourselves, at once, instead of langchain4j's ~30 s check
        .autoHealthCheck(false)
        .build();
    try {
      McpClient client = bounded(connect, listTimeout.plusSeconds(2), "connect to");
      return new Live(client, transport instanceof StdioProcessTransport s ? s : null, generation);
    } catch (RuntimeException e) {
      closeQuietly(transport);
      if (transport instanceof StdioProcessTransport s && !s.stderrTail().isEmpty()) {
        throw new McpServerException(e.getMessage() + "; last lines of its stderr:\n" + s.stderrTail(), e);
      }
      throw e;
    }
  }

  /** A tool's input schema exactly as the server listed it, or null when it sent none. */
  JsonNode inputSchema(String tool) {
    return inputSchemas.get(tool);
  }

  /** Lists the server's tools, failing after the list time-out instead of blocking forever. */
  List<ToolSpecification> listTools() {
    Live l = aliveOrRestarted();
    return bounded(l.client()::listTools, listTimeout, "list the tools of");
  }

  /** Lists the server's resources; a server without resources gives an empty list. */
  List<McpResourceInfo> listResources() {
    Live l = aliveOrRestarted();
    try {
      List<McpResource> resources = bounded(l.client()::listResources, listTimeout, "list the resources of");
      List<McpResourceInfo> infos = new ArrayList<>();
      for (McpResource r : resources) {
        infos.add(new McpResourceInfo(config.name(), r.uri(), r.name(), r.description(), r.mimeType()));
      }
      return infos;
    } catch (RuntimeException e) {
      log.debug("MCP server `{}` lists no resources: {}", config.name(), e.toString());
      return List.of();
    }
  }

  /** The text of a resource (binary parts are described, not included). */
  String readResource(String uri) {
    Live l = aliveOrRestarted();
    McpReadResourceResult result = bounded(() -> l.client().readResource(uri), listTimeout, "read a resource from");
    StringBuilder text = new StringBuilder();
    for (McpResourceContents contents : result.contents()) {
      if (contents instanceof McpTextResourceContents t) {
        text.append(t.text());
      } else {
        text.append("[binary content of ").append(uri).append(']');
      }
    }
    return text.toString();
  }

  /** Calls a tool; every failure becomes an error result with a message for the model. */
  ToolResult call(String tool, String argumentsJson) {
    Live l;
    try {
      l = aliveOrRestarted();
    } catch (RuntimeException e) {
      return ToolResult.error("The MCP server `" + config.name() + "` is not available: " + e.getMessage());
    }
    ToolExecutionRequest request = ToolExecutionRequest.builder().name(tool).arguments(argumentsJson).build();
    Future<ToolExecutionResult> future = executor.submit(() -> l.client().executeTool(request));
    // langchain4j gives up after callTimeout; the extra second lets its answer arrive first
    long deadline = System.nanoTime() + callTimeout.plusSeconds(1).toNanos();
    try {
      while (true) {
        try {
          ToolExecutionResult result = future.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
          String text = result.resultText() == null ? "" : result.resultText();
          if (text.equals(TIMEOUT_SENTINEL)) {
            return afterFailure(l, tool, timeoutMessage(tool));
          }
          if (result.isError() && l.dead()) {
            return afterFailure(l, tool, text);
          }
          return result.isError() ? ToolResult.error(text) : ToolResult.ok(text);
        } catch (TimeoutException e) {
          if (l.dead()) {
            future.cancel(true);
            return afterFailure(l, tool, null);
          }
          if (System.nanoTime() > deadline) {
            future.cancel(true);
            return afterFailure(l, tool, timeoutMessage(tool));
          }
        }
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (l.dead()) {
        // the process exit cancelled the pending request
        return afterFailure(l, tool, null);
      }
      if (cause instanceof ToolExecutionException || cause instanceof ToolArgumentsException) {
        return ToolResult.error(cause.getMessage() == null ? "Tool `" + tool + "` failed." : cause.getMessage());
      }
      return afterFailure(l, tool, "Calling tool `" + tool + "` on MCP server `" + config.name() + "` failed: "
          + (cause == null ? e : cause));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      return ToolResult.error("Calling tool `" + tool + "` was interrupted.");
    }
  }

  private String timeoutMessage(String tool) {
    return "Tool `" + tool + "` timed out after " + seconds(callTimeout) + " and was abandoned.";
  }

  /** After a failed call: if the stdio process died, restart it and say so; else return the message. */
  private ToolResult afterFailure(Live l, String tool, String message) {
    if (!l.dead()) {
      return ToolResult.error(message);
    }
    int exit = l.process().exitValue();
    String restarted;
    try {
      restartIfStill(l);
      restarted = "it has been restarted, so the tool can be called again.";
    } catch (RuntimeException e) {
      restarted = "restarting it failed: " + e.getMessage();
    }
    log.warn("MCP server `{}` stopped (exit code {}) during a call of `{}`; last lines of its stderr:\n{}",
        config.name(), exit, tool, l.stdio().stderrTail());
    return ToolResult.error("The MCP server `" + config.name() + "` stopped (exit code " + exit + ") while running tool `"
        + tool + "`; the call did not complete and " + restarted);
  }

  private Live aliveOrRestarted() {
    if (closed) {
      throw new IllegalStateException("the toolset is closed");
    }
    Live l = live;
    if (l.dead()) {
      log.warn("MCP server `{}` is not running (exit code {}); restarting it", config.name(), l.process().exitValue());
      return restartIfStill(l);
    }
    return l;
  }

  /** Restarts unless another thread already replaced this generation. */
  private synchronized Live restartIfStill(Live dead) {
    if (live.generation() != dead.generation()) {
      return live;
    }
    closeQuietly(dead.client());
    Live fresh = start(dead.generation() + 1);
    restarts++;
    live = fresh;
    log.warn("MCP server `{}` restarted (restart #{}; pid {})", config.name(), restarts, fresh.process().pid());
    return fresh;
  }

  private <T> T bounded(Callable<T> work, Duration timeout, String what) {
    Future<T> future = executor.submit(work);
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new McpServerException("MCP server `" + config.name() + "`: could not " + what + " it within "
          + seconds(timeout) + describeStdio(), null);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw new McpServerException("MCP server `" + config.name() + "`: could not " + what + " it: " + cause
          + describeStdio(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new McpServerException("interrupted while waiting for MCP server `" + config.name() + "`", e);
    }
  }

  private String describeStdio() {
    return config instanceof McpServerConfig.Stdio s ? " (command: " + String.join(" ", s.command()) + ")" : "";
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing: {}", e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(live.client());
  }
}
