package dev.art4j.rollout.server;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body without holding a thread while the client is slow: each chunk is taken as
 * it arrives ({@link Request#demand}), so a half-sent body costs a connection, not a worker, and
 * is dropped by the connector's idle timeout. More than {@code limit} bytes fail the read with a
 * 413 as soon as the limit is passed: nothing past it is kept.
 */
final class BodyReader implements Runnable {

  private final Request request;
  private final long limit;
  private final Consumer<byte[]> done;
  private final Consumer<Throwable> failed;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();

  private BodyReader(Request request, long limit, Consumer<byte[]> done, Consumer<Throwable> failed) {
    this.request = request;
    this.limit = limit;
    this.done = done;
    this.failed = failed;
  }

  static void read(Request request, long limit, Consumer<byte[]> done, Consumer<Throwable> failed) {
    long declared = request.getLength();
    if (declared > limit) {
      failed.accept(ApiException.tooLarge(limit));
      return;
    }
    new BodyReader(request, limit, done, failed).run();
  }

  @Override
  public void run() {
    while (true) {
      Content.Chunk chunk = request.read();
      if (chunk == null) {
        request.demand(this);
        return;
      }
      if (Content.Chunk.isFailure(chunk)) {
        failed.accept(chunk.getFailure());
        return;
      }
      ByteBuffer b = chunk.getByteBuffer();
      int n = b.remaining();
      if (body.size() + (long) n > limit) {
        chunk.release();
        failed.accept(ApiException.tooLarge(limit));
        return;
      }
      byte[] bytes = new byte[n];
      b.get(bytes);
      body.write(bytes, 0, n);
      boolean last = chunk.isLast();
      chunk.release();
      if (last) {
        done.accept(body.toByteArray());
        return;
      }
    }
  }
}
