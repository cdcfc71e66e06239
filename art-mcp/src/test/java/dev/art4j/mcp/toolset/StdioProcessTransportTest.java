package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.mcp.client.transport.McpOperationHandler;
import dev.langchain4j.mcp.protocol.McpCallToolRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StdioProcessTransportTest {

  /**
   * A server that stops reading its stdin (seen when a bug killed the SDK's reader thread) leaves
   * our writer blocked on the full pipe, holding the stream's lock: closing the toolset must still
   * return, stop the process and fail the pending call, not hang the training run at its end.
   */
  @Test
  void closeReturnsAndStopsAServerThatStoppedReadingItsStdin() throws Exception {
    StdioProcessTransport transport = new StdioProcessTransport(
        new McpServerConfig.Stdio("mute", List.of("sleep", "600"), Map.of()));
    Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    transport.start(new McpOperationHandler(pending, List::of, transport, message -> {}, () -> {}));
    Process process = transport.process();
    ObjectNode arguments = JsonNodeFactory.instance.objectNode().put("pad", "x".repeat(1 << 20));
    // 1 MB does not fit the 64 KB pipe: this thread blocks inside the write
    Thread writer = new Thread(() -> transport.executeOperationWithResponse(new McpCallToolRequest(1L, "echo", arguments)));
    writer.setDaemon(true);
    writer.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (writer.getState() != Thread.State.RUNNABLE || pending.isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the write never started");
      Thread.sleep(10);
    }
    Thread.sleep(200);
    assertTrue(writer.isAlive(), "the write should be blocked on the full pipe");

    CompletableFuture<Void> closed = CompletableFuture.runAsync(transport::close);
    closed.get(15, TimeUnit.SECONDS);
    assertTrue(process.waitFor(5, TimeUnit.SECONDS), "the server process was not stopped");
    assertFalse(process.isAlive());
    writer.join(5000);
    assertFalse(writer.isAlive(), "the blocked write did not end when the process stopped");
    CompletableFuture<JsonNode> call = pending.get(1L);
    assertTrue(call == null || call.isCompletedExceptionally(), "the pending call must fail, not wait for its time-out");
  }

  /**
   * The SDK writes through a PrintStream, which swallows the broken pipe of a server that has
   * exited: a request sent after the exit callback already ran must still fail at once.
   */
  @Test
  void aRequestToAnExitedServerFailsAtOnce() throws Exception {
    StdioProcessTransport transport = new StdioProcessTransport(
        new McpServerConfig.Stdio("gone", List.of("true"), Map.of()));
    Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    transport.start(new McpOperationHandler(pending, List::of, transport, message -> {}, () -> {}));
    try {
      assertTrue(transport.process().waitFor(10, TimeUnit.SECONDS), "`true` did not exit");
      Thread.sleep(200); // let the exit callback run first
      CompletableFuture<JsonNode> call = transport.executeOperationWithResponse(
          new McpCallToolRequest(7L, "echo", JsonNodeFactory.instance.objectNode()));
      assertTrue(call.isCompletedExceptionally(), "a call to an exited server waited for its time-out");
      ExecutionException failure = assertThrows(ExecutionException.class, call::get);
      assertTrue(failure.getCause().getMessage().contains("`gone` exited with code 0"), failure.getCause().getMessage());
    } finally {
      transport.close();
    }
  }
}
