package dev.art4j.examples.math;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One scenario of the math task: a question about two whole numbers that one tool call answers.
 *
 * @param id        stable id within its set ({@code train-17}, {@code val-3})
 * @param operation what the question asks
 * @param a         first operand, in reading order
 * @param b         second operand
 * @param question  the user's text
 */
public record MathProblem(String id, Operation operation, long a, long b, String question) {

  /** The correct result. */
  public double answer() {
    return operation.apply(a, b);
  }

  /** The correct result as the tool prints it. */
  public String answerText() {
    return Operation.format(answer());
  }

  /** What a trajectory's metadata records about this problem. */
  public Map<String, Object> metadata() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("operation", operation.tool());
    m.put("answer", answerText());
    return m;
  }
}
