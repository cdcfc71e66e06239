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
    if (response.isCommitted()) {
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
    if (e.param == null) {
      err.putNull("param");
    } else {
      err.put("param", e.param);
    }
    if (e.code == null) {
      err.putNull("code");
    } else {
      err.put("code", e.code);
    }
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

  /** Writes {@code data: [DONE]} and ends the response. */
  void done() throws IOException, InterruptedException {
    write("data: [DONE]\n\n", true);
  }

  private void write(String s, boolean last) throws IOException, InterruptedException {
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

  static boolean isDisconnect(Throwable t) {
    return t instanceof IOException && !(t instanceof InterruptedIOException);
  }
}
