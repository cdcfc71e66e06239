package dev.art4j.mcp.toolset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.mcp.client.McpCallContext;
import dev.langchain4j.mcp.client.transport.McpOperationHandler;
import dev.langchain4j.mcp.client.transport.McpTransport;
import dev.langchain4j.mcp.protocol.McpClientMessage;
import dev.langchain4j.mcp.protocol.McpInitializationNotification;
import dev.langchain4j.mcp.protocol.McpInitializeRequest;
import dev.langchain4j.mcp.transport.stdio.JsonRpcIoHandler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * langchain4j's stdio transport, redone for what training needs: the server's stderr goes to
 * our SLF4J log at INFO, prefixed with the server's name (langchain4j's logs it at DEBUG) and
 * its last lines are kept for error messages; when the process exits, every pending request
 * fails at once instead of waiting for its time-out; closing also stops the process's children
 * ({@code npx} starts the real server as one).
 */
final class StdioProcessTransport implements McpTransport {

  private static final Logger log = LoggerFactory.getLogger(StdioProcessTransport.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STDERR_LINES_KEPT = 10;
  private static final long STDIN_CLOSE_MILLIS = 2000;

  private final McpServerConfig.Stdio config;
  private final Map<String, String> secrets;
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private volatile Process process;
  private volatile JsonRpcIoHandler io;
  private volatile McpOperationHandler handler;
  private volatile Thread stderrPump;

  StdioProcessTransport(McpServerConfig.Stdio config) {
    this(config, Map.of());
  }

  /** With {@code secrets}: values from environment variables, shown as their {@code ${VAR}} in logs and errors. */
  StdioProcessTransport(McpServerConfig.Stdio config, Map<String, String> secrets) {
    this.config = config;
    this.secrets = secrets;
  }

  @Override
  public void start(McpOperationHandler handler) {
    this.handler = handler;
    ProcessBuilder builder = new ProcessBuilder(config.command());
    builder.environment().putAll(config.env());
    if (config.cwd() != null) {
      builder.directory(config.cwd().toFile());
    }
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new McpServerException(McpConfigFile.scrub("MCP server `" + config.name() + "`: cannot start "
          + String.join(" ", config.command()) + ": " + e.getMessage(), secrets), secrets.isEmpty() ? e : null);
    }
    Process p = process;
    log.debug("MCP server `{}` started, pid {}", config.name(), p.pid());
    io = new JsonRpcIoHandler(p.getInputStream(), p.getOutputStream(), handler::handle, false, log);
    daemon(io, "mcp-" + config.name() + "-stdout").start();
    stderrPump = daemon(this::pumpStderr, "mcp-" + config.name() + "-stderr");
    stderrPump.start();
    p.onExit().thenRun(() -> {
      log.debug("MCP server `{}` (pid {}) exited with code {}", config.name(), p.pid(), p.exitValue());
      handler.cancelAllPendingOperations("MCP server `" + config.name() + "` exited with code " + p.exitValue());
    });
  }

  private void pumpStderr() {
    Process p = process;
    try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
      for (String raw; (raw = err.readLine()) != null; ) {
        String line = McpConfigFile.scrub(raw, secrets);
        log.info("[{}] {}", config.name(), line);
        synchronized (stderrTail) {
          if (stderrTail.size() == STDERR_LINES_KEPT) {
            stderrTail.removeFirst();
          }
          stderrTail.addLast(line);
        }
      }
    } catch (IOException e) {
      log.debug("stderr of MCP server `{}` closed: {}", config.name(), e.toString());
    }
  }

  /** The last lines the server wrote to stderr, oldest first; after an exit, waits briefly for the last of them. */
  String stderrTail() {
    Thread pump = stderrPump;
    if (pump != null && process != null && !process.isAlive()) {
      try {
        pump.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (stderrTail) {
      return String.join("\n", stderrTail);
    }
  }

  Process process() {
    return process;
  }

  @Override
  public CompletableFuture<JsonNode> initialize(McpInitializeRequest request) {
    try {
      String initialized = JSON.writeValueAsString(new McpInitializationNotification());
      return send(JSON.writeValueAsString(request), request.getId())
          .thenCompose(response -> send(initialized, null).thenApply(ignored -> response));
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<JsonNode> executeOperationWithResponse(McpClientMessage message) {
    try {
      return send(JSON.writeValueAsString(message), message.getId());
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<JsonNode> executeOperationWithResponse(McpCallContext context) {
    return executeOperationWithResponse(context.message());
  }

  @Override
  public void executeOperationWithoutResponse(McpClientMessage message) {
    try {
      send(JSON.writeValueAsString(message), null);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  @Override
  public void executeOperationWithoutResponse(McpCallContext context) {
    executeOperationWithoutResponse(context.message());
  }

  private CompletableFuture<JsonNode> send(String json, Long id) {
    CompletableFuture<JsonNode> future = new CompletableFuture<>();
    if (id != null) {
      handler.startOperation(id, future);
    }
    try {
      io.submit(json);
      if (id == null) {
        future.complete(null);
      }
    } catch (IOException e) {
      future.completeExceptionally(e);
    }
    // The SDK writes through a PrintStream, which swallows a broken pipe: a request sent to a server
    // that has exited (before or during the write) would otherwise wait for its time-out.
    Process p = process;
    if (p != null && !p.isAlive()) {
      future.completeExceptionally(new IllegalStateException(
          "MCP server `" + config.name() + "` exited with code " + p.exitValue()));
    }
    return future;
  }

  @Override
  public void checkHealth() {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException("MCP server `" + config.name() + "` is not running");
    }
  }

  @Override
  public void onFailure(Runnable actionOnFailure) {
    // ServerConnection restarts a dead process itself
  }

  @Override
  public void close() {
    Process p = process;
    if (p == null) {
      return;
    }
    // Closing stdin lets a healthy server finish and exit. A server that stopped reading leaves a
    // writer blocked on the full pipe while holding the stream's lock, and close() would wait on
    // that lock forever: close from another thread, and stop the process when it takes too long
    // (which fails the blocked write and frees the lock).
    JsonRpcIoHandler stdio = io;
    Thread closer = daemon(() -> {
      try {
        stdio.close();
      } catch (IOException e) {
        log.debug("closing stdio of MCP server `{}`: {}", config.name(), e.toString());
      }
    }, "mcp-" + config.name() + "-close");
    closer.start();
    try {
      closer.join(STDIN_CLOSE_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      log.warn("MCP server `{}` is not reading its stdin; stopping it", config.name());
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(2, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // The exit callback fails pending calls too, but asynchronously: a caller of close() must find
    // them failed when it returns.
    handler.cancelAllPendingOperations("MCP server `" + config.name() + "` was closed");
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
