package dev.art4j.reward.ruler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.reward.rule.FinalAnswer;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the judge's answer {@code {"scores":[{"trajectory_id":..,"explanation":..,"score":..}]}}
 * and checks it: one entry per trajectory id {@code 1..n}, each score a number in [0, 1].
 * Lenient only where no meaning is lost: ids may be strings or integers, the JSON may sit in a
 * code fence or after a {@code <think>} block (judges without a JSON response format).
 */
final class JudgeAnswer {

  /** The answer broke the contract; the message says how, and is shown to the judge on retry. */
  static final class Invalid extends Exception {
    Invalid(String message) {
      super(message);
    }
  }

  record Entry(double score, String explanation) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private JudgeAnswer() {}

  /** Judge id (1..n) to its score; throws {@link Invalid} when the answer is not usable. */
  static Map<Integer, Entry> parse(String text, int n) throws Invalid {
    if (text == null || text.isBlank()) {
      throw new Invalid("the answer was empty");
    }
    String s = FinalAnswer.withoutThinking(text);
    int open = s.indexOf('{');
    int close = s.lastIndexOf('}');
    if (open < 0 || close < open) {
      throw new Invalid("the answer contains no JSON object");
    }
    JsonNode root;
    try {
      root = JSON.readTree(s.substring(open, close + 1));
    } catch (JsonProcessingException e) {
      throw new Invalid("the answer is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    JsonNode scores = root.get("scores");
    if (scores == null || !scores.isArray()) {
      throw new Invalid("the answer has no \"scores\" array");
    }
    Map<Integer, Entry> out = new TreeMap<>();
    for (JsonNode e : scores) {
      int id = id(e.get("trajectory_id"));
      if (id < 1 || id > n) {
        throw new Invalid("trajectory_id " + e.get("trajectory_id") + " is not one of 1.." + n);
      }
      if (out.containsKey(id)) {
        throw new Invalid("trajectory " + id + " is scored twice");
      }
      out.put(id, new Entry(score(id, e.get("score")), e.path("explanation").asText("")));
    }
    if (out.size() != n) {
      StringBuilder missing = new StringBuilder();
      for (int i = 1; i <= n; i++) {
        if (!out.containsKey(i)) {
          missing.append(missing.length() == 0 ? "" : ", ").append(i);
        }
      }
      throw new Invalid("expected " + n + " scores but got " + out.size() + " (missing trajectory_id " + missing + ")");
    }
    return out;
  }

  private static int id(JsonNode node) throws Invalid {
    if (node == null || node.isNull()) {
      throw new Invalid("a score has no trajectory_id");
    }
    if (node.isIntegralNumber()) {
      return node.asInt();
    }
    try {
      return Integer.parseInt(node.asText().trim());
    } catch (NumberFormatException e) {
      throw new Invalid("trajectory_id " + node + " is not a number");
    }
  }

  private static double score(int id, JsonNode node) throws Invalid {
    double v;
    if (node != null && node.isNumber()) {
      v = node.asDouble();
    } else if (node != null && node.isTextual()) {
      try {
        v = Double.parseDouble(node.asText().trim());
      } catch (NumberFormatException e) {
        throw new Invalid("trajectory " + id + " has score " + node + ", not a number");
      }
    } else {
      throw new Invalid("trajectory " + id + " has no numeric score");
    }
    if (!(v >= 0.0 && v <= 1.0)) {
      throw new Invalid("trajectory " + id + " has score " + v + ", outside 0..1");
    }
    return v;
  }
}
