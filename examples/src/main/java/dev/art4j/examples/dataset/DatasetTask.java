package dev.art4j.examples.dataset;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One scenario read from a dataset: a question for the agent and the reference answer its final
 * reply is checked against.
 *
 * @param id       the record's id field, or its position ({@code row-17})
 * @param question what the user asks
 * @param answer   the reference answer (for GSM8K-style answers, the part after {@code ####})
 */
public record DatasetTask(String id, String question, String answer) {

  public DatasetTask {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(answer, "answer");
  }

  /** What a trajectory's metadata records: id and the reference answer under {@code answer}. */
  public Map<String, Object> metadata() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("answer", answer);
    return m;
  }
}
