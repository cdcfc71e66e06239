package dev.art4j.mcp.scenario;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;
import java.util.Objects;

/**
 * One training task for an agent: what the user asks, how hard it is, and optionally the
 * expected answer (for rule-based rewards) and free-form metadata (source, split, ids).
 *
 * @param task            the user's request, as the agent will see it
 * @param difficulty      1 (one tool call) to 5 (many steps combining several tools)
 * @param referenceAnswer the expected final answer, or null when unknown
 * @param metadata        extra key-value pairs, never null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Scenario(
    @JsonProperty("task") String task,
    @JsonProperty("difficulty") int difficulty,
    @JsonProperty("reference_answer") String referenceAnswer,
    @JsonProperty("metadata") Map<String, String> metadata) {

  public Scenario {
    Objects.requireNonNull(task, "task");
    if (task.isBlank()) {
      throw new IllegalArgumentException("scenario task is blank");
    }
    if (difficulty < 1 || difficulty > 5) {
      throw new IllegalArgumentException("scenario difficulty must be 1 to 5, got " + difficulty + " for task: " + task);
    }
    metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
  }

  /** A scenario without reference answer or metadata. */
  public static Scenario of(String task, int difficulty) {
    return new Scenario(task, difficulty, null, Map.of());
  }
}
