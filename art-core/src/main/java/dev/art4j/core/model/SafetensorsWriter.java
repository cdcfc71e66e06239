package dev.art4j.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one safetensors writer: a header of every tensor's dtype, shape and byte range, then the
 * tensors' bytes streamed one after the other, so a multi-gigabyte checkpoint never needs to be in
 * memory at once. The file is {@code u64 header length (little-endian) | header JSON padded with
 * spaces to a multiple of 8 | data}. It is written beside the target and moved into place, so a
 * crash never leaves a half-written file; a tensor that writes more or fewer bytes than its shape
 * says is an error naming it.
 *
 * <pre>{@code
 * SafetensorsWriter.write(file, Map.of("format", "pt"), List.of(
 *     new SafetensorsWriter.Tensor("w", "F32", new long[] {2, 3}, out -> out.write(bytes))));
 * }</pre>
 */
public final class SafetensorsWriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Receives a tensor's bytes, little-endian, in one or more buffers. */
  public interface Sink {
    void write(ByteBuffer bytes) throws IOException;
  }

  /** Writes exactly one tensor's bytes to the sink. */
  @FunctionalInterface
  public interface Data {
    void writeTo(Sink sink) throws IOException;
  }

  /**
   * One tensor of the file.
   *
   * @param name  its name in the header
   * @param dtype the safetensors dtype: {@code F32}, {@code F16} or {@code BF16}
   * @param shape its dimensions
   * @param data  writes its {@code product(shape) * bytes(dtype)} bytes
   */
  public record Tensor(String name, String dtype, long[] shape, Data data) {

    long bytes() {
      long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
      return n * switch (dtype) {
        case "F32" -> 4;
        case "F16", "BF16" -> 2;
        default -> throw new IllegalArgumentException("tensor " + name + ": cannot write dtype " + dtype);
      };
    }
  }

  private SafetensorsWriter() {}

  /**
   * Writes {@code tensors} in the order given (callers that want equal bytes for equal content
   * sort them), with {@code metadata} sorted by key.
   */
  public static void write(Path file, Map<String, String> metadata, List<Tensor> tensors) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      new TreeMap<>(metadata).forEach(meta::put);
    }
    long offset = 0;
    for (Tensor t : tensors) {
      ObjectNode e = header.putObject(t.name());
      e.put("dtype", t.dtype());
      var shape = e.putArray("shape");
      Arrays.stream(t.shape()).forEach(shape::add);
      e.putArray("data_offsets").add(offset).add(offset + t.bytes());
      offset += t.bytes();
    }
    byte[] text = JSON.writeValueAsBytes(header);
    int padded = (text.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(text);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();

    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        writeFully(out, head);
        for (Tensor t : tensors) {
          long[] written = {0};
          t.data().writeTo(bytes -> {
            written[0] += bytes.remaining();
            writeFully(out, bytes);
          });
          if (written[0] != t.bytes()) {
            throw new IllegalStateException("tensor " + t.name() + " wrote " + written[0] + " bytes, its dtype "
                + t.dtype() + " and shape " + Arrays.toString(t.shape()) + " need " + t.bytes());
          }
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      out.write(bytes);
    }
  }
}
