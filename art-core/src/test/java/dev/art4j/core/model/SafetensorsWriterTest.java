package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SafetensorsWriter}: tensors streamed in pieces read back exactly through
 * {@link Safetensors}, in the order given, and a tensor whose bytes disagree with its shape is
 * refused by name without leaving a file behind.
 */
class SafetensorsWriterTest {

  @Test
  void streamedTensorsReadBackExactly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("model.safetensors");
    float[] big = new float[3 * 1000];
    for (int i = 0; i < big.length; i++) {
      big[i] = i * 0.5f - 7;
    }
    SafetensorsWriter.write(file, Map.of("format", "pt"), List.of(
        new SafetensorsWriter.Tensor("z.big", "F32", new long[] {3, 1000}, sink -> {
          for (int row = 0; row < 3; row++) { // one buffer a row: the writer concatenates
            sink.write(floats(big, row * 1000, 1000));
          }
        }),
        new SafetensorsWriter.Tensor("a.small", "F32", new long[] {2}, sink -> sink.write(floats(new float[] {1, -2}, 0, 2)))));

    Safetensors st = Safetensors.open(file);
    assertEquals(12000, st.info("a.small").begin() - st.info("z.big").begin(), "data in the order given");
    try (NDManager m = NDManager.newBaseManager()) {
      assertArrayEquals(big, st.load("z.big", m).toFloatArray());
      assertArrayEquals(new float[] {1, -2}, st.load("a.small", m).toFloatArray());
    }
    long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header padded to 8 bytes");
    assertEquals(8 + headerLength + 4 * (3000 + 2), Files.size(file));
  }

  @Test
  void aTensorThatWritesTheWrongNumberOfBytesIsNamedAndNothingIsLeft(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.safetensors");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(file, null,
        List.of(new SafetensorsWriter.Tensor("layer.0.w", "F32", new long[] {4}, sink -> sink.write(floats(new float[3], 0, 3))))));
    assertTrue(e.getMessage().contains("layer.0.w") && e.getMessage().contains("12") && e.getMessage().contains("16"),
        e.getMessage());
    assertFalse(Files.exists(file));
    try (var left = Files.list(dir)) {
      assertEquals(0, left.count(), "no temporary file left behind");
    }
  }

  private static ByteBuffer floats(float[] v, int from, int n) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v, from, n);
    return b;
  }
}
