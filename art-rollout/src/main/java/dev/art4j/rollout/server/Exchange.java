package dev.art4j.rollout.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** One request and its response: JSON answers, OpenAI-shaped errors, and blocking SSE writes for workers. */
final class Exchange {

  static final ObjectMapper JSON = new ObjectMapper();

  final Request request;
  final Response response;
  final Callback callback;

  Exchange(Request request, Response response, Callback callback) {
    this.request = request;
    this.response = response;
    this.callback = callback;
  }

  void json(int status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    if (response.isCommitted()) {
      // after keep-alive whitespace (see awaitWatching) the status is already 200: the body says the rest
      response.write(true, ByteBuffer.wrap(bytes), callback);
      return;
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }

  void text(int status, String contentType, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }

  void error(ApiException e) {
    if (response.isCommitted() && !whitespaceSent) {
      callback.failed(e);
      return;
    }
    if (e.status == 413) {
      // the rest of the body is never read: the connection cannot be reused
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
    json(e.status, body(e));
  }

  static ObjectNode body(ApiException e) {
    ObjectNode out = JSON.createObjectNode();
    ObjectNode err = out.putObject("error").put("message", e.getMessage()).put("type", e.type);
    err.put("param", e.param).put("code", e.code); // either may be null, written as null
    return out;
  }

  /** Starts a server-sent event stream (status 200); then {@link #event} for each event. */
  void startEvents() {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
  }

  /** Writes {@code data: <json>\n\n} and waits until it is sent; fails when the client is gone. */
  void event(JsonNode data) throws IOException, InterruptedException {
    write("data: " + JSON.writeValueAsString(data) + "\n\n", false);
  }

  /**
   * Writes an SSE comment line, which clients skip, at most every half second when nothing else
   * was written: a write is how a streaming server learns that its client went away.
   */
  void keepAlive() throws IOException, InterruptedException {
    checkClient();
    if (System.nanoTime() - lastWrite > 500_000_000L) {
      write(": keep-alive\n\n", false);
    }
  }

  /** Writes {@code data: [DONE]} and ends the response (which completes the exchange). */
  void done() {
    response.write(true, ByteBuffer.wrap("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8)), callback);
  }

  private long lastWrite = System.nanoTime();

  private void write(String s, boolean last) throws IOException, InterruptedException {
    lastWrite = System.nanoTime();
    Callback.Completable c = new Callback.Completable();
    response.write(last, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)), c);
    try {
      c.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      c.cancel(true);
      throw e;
    }
  }

  private boolean whitespaceSent;

  /**
   * Waits until {@code done} while the client waits for a whole (non-streamed) answer. Jetty
   * learns that a client went away only when it writes to it, so after the first second a space
   * is written every second (JSON allows leading whitespace; the status, 200, is then sent
   * early): a client that left fails the write, and its request is cancelled.
   */
  void awaitWatching(java.util.function.BooleanSupplier done) throws IOException, InterruptedException {
    long start = System.nanoTime();
    while (!done.getAsBoolean()) {
      Thread.sleep(20);
      checkClient();
      long now = System.nanoTime();
      if (now - start > 1_000_000_000L && now - lastWrite > 1_000_000_000L) {
        if (!response.isCommitted()) {
          response.setStatus(200);
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        }
        whitespaceSent = true;
        write(" ", false);
      }
    }
  }

  /**
   * Whether the client is known to be gone: its connection closed, or it shut its sending side
   * (an HTTP/1.1 client waiting for its answer never does; one that left does).
   */
  boolean clientGone() {
    var endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    return !endPoint.isOpen() || endPoint.isInputShutdown();
  }

  private void checkClient() throws IOException {
    if (clientGone()) {
      throw new IOException("the client closed its connection");
    }
  }

  static boolean isDisconnect(Throwable t) {
    return t instanceof IOException && !(t instanceof InterruptedIOException);
  }
}
