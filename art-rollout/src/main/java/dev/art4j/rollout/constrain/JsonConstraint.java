package dev.art4j.rollout.constrain;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.rollout.completion.TokenConstraint;
import java.util.List;
import java.util.Objects;

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
 * the automaton; see {@code ConstraintBench} for its cost on a 151k-token vocabulary.
 */
public final class JsonConstraint implements TokenConstraint {

  private final TokenVocabulary vocabulary;
  private final JsonMachine.Stack[] start;

  private JsonConstraint(TokenVocabulary vocabulary, JsonMachine.Stack[] start) {
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    this.start = start;
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
    return new Matcher(vocabulary, start);
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

  private record Matcher(TokenVocabulary vocabulary, JsonMachine.Stack[] states) implements TokenConstraint.Matcher {

    @Override
    public void allow(boolean[] allowed) {
      vocabulary.allow(states, allowed);
    }

    @Override
    public boolean complete() {
      return JsonMachine.complete(states);
    }

    @Override
    public TokenConstraint.Matcher advance(int id) {
      byte[] b = vocabulary.bytes(id);
      if (b == null || b.length == 0) {
        return null;
      }
      JsonMachine.Stack[] next = feed(states, b);
      return next == null ? null : new Matcher(vocabulary, next);
    }
  }
}
