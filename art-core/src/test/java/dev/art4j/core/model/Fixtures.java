package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The reference checkpoints under {@code fixtures/models}, discovered (never listed by hand). */
final class Fixtures {

  static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path root() {
    String p = System.getProperty("art4j.fixtures", "src/test/resources/fixtures");
    return Path.of(p);
  }

  static List<Path> models() throws IOException {
    Path dir = root().resolve("models");
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> out = s.filter(p -> Files.exists(p.resolve("expected.json"))).sorted().collect(Collectors.toList());
      assertTrue(out.size() >= 4, "expected the fixture models in " + dir + ", found " + out);
      return out;
    }
  }

  static Path model(String name) {
    return root().resolve("models").resolve(name);
  }

  static JsonNode expected(Path model) throws IOException {
    return JSON.readTree(model.resolve("expected.json").toFile());
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  static double tolerance(JsonNode expected) {
    return expected.path("dtype").asText().equals("BF16") ? 2e-3 : 1e-3;
  }
}
