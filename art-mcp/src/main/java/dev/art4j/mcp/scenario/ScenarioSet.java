package dev.art4j.mcp.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * An immutable list of {@link Scenario}s with the operations a training run needs: seeded
 * shuffle, train/validation split, filters, a one-line summary, and a JSON round-trip
 * ({@code {"scenarios": [{"task": ..., "difficulty": 3, "reference_answer": ..., "metadata": {...}}]}};
 * a bare array reads too).
 */
public final class ScenarioSet {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final List<Scenario> scenarios;

  /** The two parts of a {@link #split}. */
  public record Split(ScenarioSet train, ScenarioSet validation) {}

  public ScenarioSet(List<Scenario> scenarios) {
    this.scenarios = List.copyOf(scenarios);
  }

  public List<Scenario> scenarios() {
    return scenarios;
  }

  public int size() {
    return scenarios.size();
  }

  /** The same scenarios in an order fixed by {@code seed}. */
  public ScenarioSet shuffle(long seed) {
    List<Scenario> copy = new ArrayList<>(scenarios);
    Collections.shuffle(copy, new Random(seed));
    return new ScenarioSet(copy);
  }

  /** The first {@code round(size * trainFraction)} scenarios for training, the rest for validation (shuffle first). */
  public Split split(double trainFraction) {
    if (!(trainFraction >= 0 && trainFraction <= 1)) {
      throw new IllegalArgumentException("trainFraction must be in [0, 1], got " + trainFraction);
    }
    int n = (int) Math.round(scenarios.size() * trainFraction);
    return new Split(new ScenarioSet(scenarios.subList(0, n)), new ScenarioSet(scenarios.subList(n, scenarios.size())));
  }

  /** The scenarios with {@code min <= difficulty <= max}. */
  public ScenarioSet withDifficulty(int min, int max) {
    return filter(s -> s.difficulty() >= min && s.difficulty() <= max);
  }

  public ScenarioSet filter(Predicate<Scenario> keep) {
    return new ScenarioSet(scenarios.stream().filter(keep).toList());
  }

  /** How many scenarios per difficulty, in order 1..5 (difficulties with none are left out). */
  public Map<Integer, Integer> countsByDifficulty() {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (Scenario s : scenarios) {
      counts.merge(s.difficulty(), 1, Integer::sum);
    }
    return counts;
  }

  /** E.g. {@code "24 scenarios; difficulty 1: 5, 2: 5, 3: 5, 4: 5, 5: 4; mean task length 97 chars; 0 with reference answers"}. */
  public String summary() {
    StringBuilder sb = new StringBuilder().append(scenarios.size()).append(" scenarios");
    if (!scenarios.isEmpty()) {
      sb.append("; difficulty ");
      List<String> parts = new ArrayList<>();
      countsByDifficulty().forEach((d, c) -> parts.add(d + ": " + c));
      sb.append(String.join(", ", parts));
      long mean = Math.round(scenarios.stream().mapToInt(s -> s.task().length()).average().orElse(0));
      sb.append("; mean task length ").append(mean).append(" chars");
      sb.append("; ").append(scenarios.stream().filter(s -> s.referenceAnswer() != null).count())
          .append(" with reference answers");
    }
    return sb.toString();
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(Map.of("scenarios", scenarios));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads {@code {"scenarios": [...]}} or a bare array; a bad entry fails with its index. */
  public static ScenarioSet fromJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("scenario JSON is not valid JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode list = root != null && root.isObject() ? root.get("scenarios") : root;
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException("scenario JSON must be {\"scenarios\": [...]} or an array");
    }
    List<Scenario> scenarios = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      try {
        scenarios.add(JSON.treeToValue(list.get(i), Scenario.class));
      } catch (JsonProcessingException | IllegalArgumentException e) {
        String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        throw new IllegalArgumentException("scenario " + i + " is invalid: " + why, e);
      }
    }
    return new ScenarioSet(scenarios);
  }

  /** Writes the JSON to a temporary file beside {@code file}, then moves it into place, so a crash never leaves half a file. */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      Files.writeString(tmp, toJson() + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  public static ScenarioSet read(Path file) throws IOException {
    try {
      return fromJson(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScenarioSet other && scenarios.equals(other.scenarios);
  }

  @Override
  public int hashCode() {
    return scenarios.hashCode();
  }

  @Override
  public String toString() {
    return "ScenarioSet[" + summary() + "]";
  }
}
