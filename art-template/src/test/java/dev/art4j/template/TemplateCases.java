package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/** Shared by the case-table tests: the fixed clock and the check of one {context, expected|error} case. */
final class TemplateCases {

  static final ObjectMapper JSON = new ObjectMapper();
  /** The fixtures' {@code strftime_now} time, 2026-01-02 03:04:05, as a UTC clock read in UTC. */
  static final Clock FIXED_CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

  private TemplateCases() {}

  static Map<String, Object> context(JsonNode node) {
    Map<String, Object> ctx = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      ctx.put(e.getKey(), e.getValue());
    }
    return ctx;
  }

  /**
   * Renders one case: the text must equal {@code expected} byte for byte, or rendering must fail
   * with {@code error}, written as Python prints it ({@code "TemplateError: msg"}); a template's own
   * {@code raise_exception(msg)} must surface as exactly {@code msg}.
   */
  static void check(ChatTemplateSupplier template, JsonNode c) {
    check(template, c, c.get("context"));
  }

  /** As {@link #check(ChatTemplateSupplier, JsonNode)}, with the variables given separately. */
  static void check(ChatTemplateSupplier template, JsonNode c, JsonNode context) {
    Map<String, Object> ctx = context(context);
    if (c.has("expected")) {
      assertEquals(c.get("expected").textValue(), template.get().render(ctx));
      return;
    }
    String error = c.get("error").textValue();
    TemplateException e = assertThrows(TemplateException.class, () -> template.get().render(ctx));
    assertEquals(error, e.pythonError());
    if (error.startsWith("TemplateError: ")) {
      assertTrue(e.isRaisedByTemplate());
      assertEquals(error.substring("TemplateError: ".length()), e.getMessage());
    } else {
      assertTrue(e.line() > 0 && e.column() > 0, "error position: " + e.getMessage());
    }
  }

  /** Parsing may itself be what fails, so the template is made inside the check. */
  interface ChatTemplateSupplier {
    ChatTemplate get();
  }
}
