package dev.art4j.mcp.math;

import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * The SDK's stdio transport provider with its sends made one at a time.
 *
 * <p>Why: in MCP SDK 2.1.0 the stdio session transport hands each outgoing message to a unicast
 * Reactor sink with {@code tryEmitNext}, which fails at once ({@code FAIL_NON_SERIALIZED},
 * "Failed to enqueue message") when two tool calls finish at the same moment on different
 * worker threads. The failure escapes as an unhandled error on the inbound thread, which then
 * stops reading stdin: that answer and every later one are lost and the client's writes block
 * once the pipe is full (java-sdk issues #686, #875; seen here as a training step whose tool
 * calls all timed out). Holding one lock around each send serialises the emissions; the send is
 * synchronous (the sink only queues), so the lock is held for microseconds.
 */
final class SerializedStdioProvider implements McpServerTransportProvider {

  private final McpServerTransportProvider delegate;

  SerializedStdioProvider(McpServerTransportProvider delegate) {
    this.delegate = delegate;
  }

  @Override
  public void setSessionFactory(McpServerSession.Factory factory) {
    delegate.setSessionFactory(transport -> factory.create(new SerializedTransport(transport)));
  }

  @Override
  public Mono<Void> notifyClients(String method, Object params) {
    return delegate.notifyClients(method, params);
  }

  @Override
  public Mono<Void> notifyClient(String sessionId, String method, Object params) {
    return delegate.notifyClient(sessionId, method, params);
  }

  @Override
  public Mono<Void> closeGracefully() {
    return delegate.closeGracefully();
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public List<String> protocolVersions() {
    return delegate.protocolVersions();
  }

  /** One session's transport whose {@link #sendMessage} subscribes to the SDK's send under a lock. */
  private static final class SerializedTransport implements McpServerTransport {
    private final McpServerTransport delegate;

    SerializedTransport(McpServerTransport delegate) {
      this.delegate = delegate;
    }

    @Override
    public Mono<Void> sendMessage(JSONRPCMessage message) {
      return Mono.create(sink -> {
        synchronized (this) {
          delegate.sendMessage(message).subscribe(ignored -> {}, sink::error, sink::success);
        }
      });
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
      return delegate.unmarshalFrom(data, typeRef);
    }

    @Override
    public Mono<Void> closeGracefully() {
      return delegate.closeGracefully();
    }

    @Override
    public void close() {
      delegate.close();
    }

    @Override
    public List<String> protocolVersions() {
      return delegate.protocolVersions();
    }
  }
}
