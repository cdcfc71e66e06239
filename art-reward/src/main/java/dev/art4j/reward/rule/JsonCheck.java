package dev.art4j.reward.rule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.trajectory.Trajectory;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * 1 when the {@link FinalAnswer final answer} is one valid JSON value, else 0. A single
 * Markdown code fence around it ({@code ```json ... ```}) is allowed; anything else around
 * the JSON fails the check. {@link #object()} additionally requires a JSON object,
 * {@link #withFields} the named top-level fields. Metric {@code json_valid}.
 */
public final class JsonCheck implements RewardFunction {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Pattern FENCE = Pattern.compile("(?s)```[a-zA-Z]*\\s*\\n(.*?)\\n?```");

  private final String name;
  private final boolean object;
  private final List<String> fields;

  private JsonCheck(String name, boolean object, List<String> fields) {
    this.name = Objects.requireNonNull(name, "name");
    this.object = object;
    this.fields = List.copyOf(fields);
  }

  /** Any valid JSON value. */
  public static JsonCheck valid() {
    return new JsonCheck("json_valid", false, List.of());
  }

  /** A JSON object. */
  public static JsonCheck object() {
    return new JsonCheck("json_valid", true, List.of());
  }

  /** A JSON object that has every one of {@code names} at its top level. */
  public JsonCheck withFields(String... names) {
    return new JsonCheck(name, true, List.of(names));
  }

  public JsonCheck named(String metricName) {
    return new JsonCheck(metricName, object, fields);
  }

  @Override
  public Reward score(Trajectory trajectory) {
    boolean ok = FinalAnswer.of(trajectory).flatMap(JsonCheck::parse).map(this::accepts).orElse(false);
    return Reward.of(name, ok ? 1.0 : 0.0);
  }

  private boolean accepts(JsonNode node) {
    if (!object) {
      return true;
    }
    return node.isObject() && fields.stream().allMatch(node::has);
  }

  private static Optional<JsonNode> parse(String answer) {
    Matcher fence = FENCE.matcher(answer);
    String text = fence.matches() ? fence.group(1) : answer;
    if (text.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readTree(text));
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }
}
