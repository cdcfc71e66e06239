package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.art4j.core.model.ReferenceKvCache;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Transformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The core {@link Transformer} as the reference the engine is checked against (test helper). */
final class Reference {

  private Reference() {}

  /** The fixture checkpoints under {@code art4j.fixtures/models}, discovered. */
  static List<Path> models() throws IOException {
    Path dir = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures")).resolve("models");
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> out = s.filter(p -> Files.exists(p.resolve("config.json"))).sorted().collect(Collectors.toList());
      assertTrue(out.size() >= 4, "expected the fixture models in " + dir + ", found " + out);
      return out;
    }
  }

  static Path model(String name) throws IOException {
    return models().stream().filter(p -> p.getFileName().toString().equals(name)).findFirst().orElseThrow();
  }

  /** Single-sequence greedy decoding with the KV cache, one token per step. */
  static int[] greedy(Transformer model, Lora adapter, int[] prompt, int n, NDManager parent) {
    int[] out = new int[n];
    try (ReferenceKvCache cache = ReferenceKvCache.create(model.config(), 4, parent)) {
      long[] ids = toLongs(prompt);
      int pos = 0;
      for (int i = 0; i < n; i++) {
        try (NDManager step = parent.newSubManager()) {
          NDArray input = step.create(ids).reshape(1, ids.length);
          long[] positions = new long[ids.length];
          for (int j = 0; j < ids.length; j++) {
            positions[j] = pos + j;
          }
          NDArray mask = step.ones(new Shape(1, pos + ids.length), DataType.INT64);
          NDArray logits = model.forward(input, step.create(positions).reshape(1, ids.length), mask, cache, adapter);
          pos += ids.length;
          out[i] = (int) logits.get("0, -1").argMax().getLong();
          ids = new long[] {out[i]};
        }
      }
    }
    return out;
  }

  /**
   * Log-softmax of {@code logits / temperature} after every position of {@code tokens} by one
   * plain forward (no cache): (tokens.length, vocab).
   */
  static float[][] logSoftmax(Transformer model, Lora adapter, int[] tokens, double temperature, NDManager parent) {
    try (NDManager m = parent.newSubManager()) {
      NDArray logits = model.forward(m.create(toLongs(tokens)).reshape(1, tokens.length), adapter);
      NDArray lp = logits.get(0).div(temperature).logSoftmax(-1);
      int vocab = (int) lp.getShape().get(1);
      float[] flat = lp.toFloatArray();
      float[][] out = new float[tokens.length][vocab];
      for (int i = 0; i < tokens.length; i++) {
        System.arraycopy(flat, i * vocab, out[i], 0, vocab);
      }
      return out;
    }
  }

  static long[] toLongs(int[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
