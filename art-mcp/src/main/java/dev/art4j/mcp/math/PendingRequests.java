package dev.art4j.mcp.math;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Counts the JSON-RPC requests read from stdin and the responses written to stdout, so that the
 * stdio server, once stdin has closed, can wait for the answers to requests already read
 * ({@code printf '...' | java MathServer} must print every answer). The SDK stops answering as
 * soon as its reader sees the end of input, so the end is held back from it until the answers
 * are out (or {@code maxDrainMillis} have passed).
 */
final class PendingRequests {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final long maxDrainMillis;
  private int requests;
  private int responses;
  private boolean endOfInput;

  PendingRequests(long maxDrainMillis) {
    this.maxDrainMillis = maxDrainMillis;
  }

  InputStream watch(InputStream in) {
    return new FilterInputStream(in) {
      private final ByteArrayOutputStream line = new ByteArrayOutputStream();

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
          drainThenEnd();
        } else {
          scan(b);
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n < 0) {
          drainThenEnd();
        }
        for (int i = 0; i < n; i++) {
          scan(buf[off + i]);
        }
        return n;
      }

      private void scan(int b) {
        if (b == '\n') {
          if (isMessage(line, true)) {
            count(true);
          }
          line.reset();
        } else {
          line.write(b);
        }
      }
    };
  }

  OutputStream watch(OutputStream out) {
    return new FilterOutputStream(out) {
      private final ByteArrayOutputStream line = new ByteArrayOutputStream();

      @Override
      public void write(int b) throws IOException {
        out.write(b);
        if (b == '\n') {
          out.flush();
          if (isMessage(line, false)) {
            count(false);
          }
          line.reset();
        } else {
          line.write(b);
        }
      }

      @Override
      public void write(byte[] buf, int off, int len) throws IOException {
        for (int i = 0; i < len; i++) {
          write(buf[off + i]);
        }
      }
    };
  }

  /** Requests carry a method and an id; responses an id and no method. */
  private static boolean isMessage(ByteArrayOutputStream line, boolean request) {
    try {
      JsonNode node = JSON.readTree(line.toString(StandardCharsets.UTF_8));
      return node != null && node.has("id") && node.has("method") == request;
    } catch (IOException e) {
      return false;
    }
  }

  private synchronized void count(boolean request) {
    if (request) {
      requests++;
    } else {
      responses++;
    }
    notifyAll();
  }

  /** Called by the reader at the end of input: waits for the answers, then lets the end through. */
  private synchronized void drainThenEnd() throws IOException {
    long deadline = System.currentTimeMillis() + maxDrainMillis;
    try {
      while (responses < requests && System.currentTimeMillis() < deadline) {
        wait(Math.max(1, deadline - System.currentTimeMillis()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while draining");
    }
    endOfInput = true;
    notifyAll();
  }

  /** Blocks until the end of input has been passed on, with every answer written before it. */
  synchronized void awaitEnd() throws InterruptedException {
    while (!endOfInput) {
      wait();
    }
  }
}
