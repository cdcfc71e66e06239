package dev.art4j.core.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One line of {@code history.jsonl}: the metrics of one step of one split.
 *
 * @param step    the training step the metrics belong to
 * @param split   {@code train}, {@code val}, ...
 * @param metrics named numbers (reward, loss, grad_norm, ...); NaN allowed
 * @param note    free text, e.g. why a training step was skipped; null if none
 * @param time    when the line was written, ISO-8601 UTC; null if unknown
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record HistoryEntry(
    @JsonProperty("step") int step,
    @JsonProperty("split") String split,
    @JsonProperty("metrics") Map<String, Double> metrics,
    @JsonProperty("note") String note,
    @JsonProperty("time") String time) {

  public HistoryEntry {
    Objects.requireNonNull(split, "split");
    metrics = metrics == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** The metric's value, or NaN when this line does not have it. */
  public double metric(String name) {
    Double v = metrics.get(name);
    return v == null ? Double.NaN : v;
  }
}
