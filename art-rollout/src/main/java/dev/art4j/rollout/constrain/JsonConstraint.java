package dev.art4j.rollout.constrain;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.rollout.completion.TokenConstraint;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Constrained decoding of JSON: every completion sampled under this constraint is JSON text
 * valid under a schema (OpenAI's {@code response_format}), or one of several framed JSON values
 * (a forced tool call: {@code <tool_call>\n{"name": "f", "arguments": } + arguments + {@code }\n</tool_call>}).
 *
 * <p>The schema subset enforced: {@code type} (a name or a list: object, array, string, number,
 * integer, boolean, null), {@code properties}, {@code required}, {@code additionalProperties}
 * (true, false or a schema; absent = any), {@code items} (one schema), {@code minItems},
 * {@code maxItems}, {@code minLength}, {@code maxLength} (characters), {@code enum}, {@code const},
 * {@code anyOf}, {@code oneOf} (enforced as anyOf: a value matching two alternatives is not
 * refused), {@code $ref} to {@code #/$defs/..} or {@code #/definitions/..} (recursion allowed),
 * and the annotations {@code title}, {@code description}, {@code default}, {@code examples},
 * {@code $schema}, {@code $id}, {@code $comment}, {@code deprecated}, {@code readOnly},
 * {@code writeOnly}. Any other keyword ({@code minimum}, {@code pattern}, {@code format}, ...)
 * is an {@link UnsupportedSchemaException} naming it, never silently dropped. Integers are
 * written without fraction or exponent; keys outside {@code properties} without backslash
 * escapes; whitespace as {@link JsonMachine} bounds it.
 *
 * <p>A step's mask costs one walk of the vocabulary's trie ({@link TokenVocabulary}) pruned by
 * the automaton, the first time a state is met; the mask is then kept (per constraint, at most
 * 256 states) for the next time, e.g. every further token inside the same string. See
 * {@code ConstraintBench} for the cost on a 151k-token vocabulary.
 */
public final class JsonConstraint implements TokenConstraint {

  /** Masks kept per state: a reply comes back to the same state often (inside each string, after each comma). */
  private static final int MAX_CACHED_MASKS = 256;

  private final TokenVocabulary vocabulary;
  private final JsonMachine.Stack[] start;
  /** The allowed ids (a bitset over the vocabulary) of states met before; states are values, compared deeply. */
  private final Map<List<JsonMachine.Stack>, long[]> masks = new ConcurrentHashMap<>();

  private JsonConstraint(TokenVocabulary vocabulary, JsonMachine.Stack[] start) {
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    this.start = start;
  }

  /** Sets the ids {@code states} allow in {@code allowed}: from the cache, else by a walk of the trie. */
  private void allow(JsonMachine.Stack[] states, boolean[] allowed) {
    List<JsonMachine.Stack> key = Arrays.asList(states);
    long[] bits = masks.get(key);
    if (bits == null) {
      boolean[] all = new boolean[vocabulary.size()];
      vocabulary.allow(states, all);
      bits = new long[(all.length + 63) / 64];
      for (int i = 0; i < all.length; i++) {
        if (all[i]) {
          bits[i >>> 6] |= 1L << i;
        }
      }
      if (masks.size() >= MAX_CACHED_MASKS) {
        masks.clear(); // rare: a reply that keeps meeting new states; start over rather than track recency
      }
      masks.put(key, bits);
    }
    int limit = Math.min(allowed.length, vocabulary.size());
    for (int w = 0; w < bits.length; w++) {
      long word = bits[w];
      while (word != 0) {
        int id = (w << 6) + Long.numberOfTrailingZeros(word);
        if (id >= limit) {
          break;
        }
        allowed[id] = true;
        word &= word - 1;
      }
    }
  }

  /** Any one JSON object ({@code response_format: {"type": "json_object"}}). */
  public static JsonConstraint anyObject(TokenVocabulary vocabulary) {
    return new JsonConstraint(vocabulary, new JsonMachine.Stack[] {JsonMachine.document(Schema.anyObject())});
  }

  /**
   * One JSON value valid under {@code schema}.
   *
   * @throws UnsupportedSchemaException for a keyword outside the subset or a schema nothing satisfies
   */
  public static JsonConstraint schema(TokenVocabulary vocabulary, JsonNode schema) {
    return new JsonConstraint(vocabulary, new JsonMachine.Stack[] {JsonMachine.document(Schema.compile(schema))});
  }

  /**
   * Checks that {@code schema} is inside the subset, without a vocabulary.
   *
   * @throws UnsupportedSchemaException if it is not
   */
  public static void check(JsonNode schema) {
    Schema.compile(schema);
  }

  /**
   * One alternative of {@link #oneOf}: exactly {@code prefix}, then a JSON value of {@code schema}
   * (null: any object), then exactly {@code suffix}.
   */
  public record Framed(String prefix, JsonNode schema, String suffix) {
    public Framed {
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(suffix, "suffix");
    }
  }

  /**
   * Text that is one of the alternatives.
   *
   * @throws UnsupportedSchemaException for a schema outside the subset; its path starts with
   *     {@code [i]}, the alternative's index
   */
  public static JsonConstraint oneOf(TokenVocabulary vocabulary, List<Framed> alternatives) {
    if (alternatives.isEmpty()) {
      throw new IllegalArgumentException("no alternatives");
    }
    JsonMachine.Stack[] start = new JsonMachine.Stack[alternatives.size()];
    for (int i = 0; i < start.length; i++) {
      Framed f = alternatives.get(i);
      Schema s;
      if (f.schema() == null) {
        s = Schema.anyObject();
      } else {
        try {
          s = Schema.compile(f.schema());
        } catch (UnsupportedSchemaException e) {
          throw e.under("[" + i + "]");
        }
      }
      start[i] = JsonMachine.framed(f.prefix(), s, f.suffix());
    }
    return new JsonConstraint(vocabulary, start);
  }

  @Override
  public TokenConstraint.Matcher start() {
    return new Matcher(this, start);
  }

  /** Whether {@code text} is a whole answer under this constraint (tests, checks). */
  public boolean accepts(String text) {
    JsonMachine.Stack[] s = feed(start, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return s != null && JsonMachine.complete(s);
  }

  /** Whether {@code text} can still become a whole answer. */
  public boolean acceptsPrefix(String text) {
    return feed(start, text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) != null;
  }

  private static JsonMachine.Stack[] feed(JsonMachine.Stack[] states, byte[] bytes) {
    for (byte b : bytes) {
      states = JsonMachine.step(states, b & 0xff);
      if (states == null) {
        return null;
      }
    }
    return states;
  }

  private record Matcher(JsonConstraint constraint, JsonMachine.Stack[] states) implements TokenConstraint.Matcher {

    @Override
    public void allow(boolean[] allowed) {
      constraint.allow(states, allowed);
    }

    @Override
    public boolean complete() {
      return JsonMachine.complete(states);
    }

    @Override
    public TokenConstraint.Matcher advance(int id) {
      byte[] b = constraint.vocabulary.bytes(id);
      if (b == null || b.length == 0) {
        return null;
      }
      JsonMachine.Stack[] next = feed(states, b);
      return next == null ? null : new Matcher(constraint, next);
    }
  }
}
