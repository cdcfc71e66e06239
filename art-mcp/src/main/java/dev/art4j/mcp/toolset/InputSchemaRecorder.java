package dev.art4j.mcp.toolset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.mcp.client.McpCallContext;
import dev.langchain4j.mcp.client.transport.McpOperationHandler;
import dev.langchain4j.mcp.client.transport.McpTransport;
import dev.langchain4j.mcp.protocol.McpClientMessage;
import dev.langchain4j.mcp.protocol.McpInitializeRequest;
import dev.langchain4j.mcp.protocol.McpListToolsRequest;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A transport that keeps each tool's {@code inputSchema} exactly as the server sent it in its
 * {@code tools/list} answer. langchain4j turns schemas into its own types, which have no
 * {@code $ref}, {@code $defs} or {@code oneOf}: a Pydantic schema came out as empty objects,
 * and calls that fit the real schema were refused. Everything else passes through unchanged.
 */
final class InputSchemaRecorder implements McpTransport {

  private final McpTransport delegate;
  private final Map<String, JsonNode> schemas;

  InputSchemaRecorder(McpTransport delegate, Map<String, JsonNode> schemas) {
    this.delegate = delegate;
    this.schemas = schemas;
  }

  /** A map that recorders of one connection share across restarts. */
  static Map<String, JsonNode> newStore() {
    return new ConcurrentHashMap<>();
  }

  private CompletableFuture<JsonNode> record(McpClientMessage message, CompletableFuture<JsonNode> answer) {
    if (!(message instanceof McpListToolsRequest)) {
      return answer;
    }
    return answer.thenApply(node -> {
      JsonNode tools = node == null ? null : node.path("result").path("tools");
      if (tools != null && tools.isArray()) {
        for (JsonNode tool : tools) {
          JsonNode schema = tool.get("inputSchema");
          if (tool.hasNonNull("name") && schema != null && schema.isObject()) {
            schemas.put(tool.get("name").asText(), schema.deepCopy());
          }
        }
      }
      return node;
    });
  }

  @Override
  public void start(McpOperationHandler handler) {
    delegate.start(handler);
  }

  @Override
  public CompletableFuture<JsonNode> initialize(McpInitializeRequest request) {
    return delegate.initialize(request);
  }

  @Override
  public CompletableFuture<JsonNode> executeOperationWithResponse(McpClientMessage message) {
    return record(message, delegate.executeOperationWithResponse(message));
  }

  @Override
  public CompletableFuture<JsonNode> executeOperationWithResponse(McpCallContext context) {
    return record(context.message(), delegate.executeOperationWithResponse(context));
  }

  @Override
  public void executeOperationWithoutResponse(McpClientMessage message) {
    delegate.executeOperationWithoutResponse(message);
  }

  @Override
  public void executeOperationWithoutResponse(McpCallContext context) {
    delegate.executeOperationWithoutResponse(context);
  }

  @Override
  public void checkHealth() {
    delegate.checkHealth();
  }

  @Override
  public void onFailure(Runnable action) {
    delegate.onFailure(action);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
