package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hostile templates stop with a TemplateException naming the limit, never a crash or a hang. */
class TemplateLimitsTest {

  static TemplateException fails(ChatTemplate t) {
    return assertThrows(TemplateException.class, () -> t.render(Map.of()));
  }

  @Test
  void blocksNestedTwentyThousandDeepAreATemplateError() {
    String deep = "{% if true %}".repeat(20_000) + "x" + "{% endif %}".repeat(20_000);
    TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.of(deep).render(Map.of()));
    assertTrue(e.getMessage().contains("nest"), e.getMessage());
    // shallow enough to parse, deeper than maxDepth to run
    String hundred = "{% if true %}".repeat(100) + "x" + "{% endif %}".repeat(100);
    assertEquals("x", ChatTemplate.of(hundred).render(Map.of()));
    e = fails(ChatTemplate.of(hundred).withLimits(new TemplateLimits(50, 1000, 1000, Duration.ofSeconds(10))));
    assertEquals("RecursionError: maximum recursion depth exceeded", e.pythonError());
  }

  @Test
  void aMacroThatCallsItselfForeverIsARecursionError() {
    TemplateException e = fails(ChatTemplate.of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
    assertEquals("RecursionError", e.pythonType());
  }

  @Test
  void hugeStringsAndListsAreRefusedBeforeTheyAreMade() {
    TemplateException e = fails(ChatTemplate.of("{{ 'abc' * 3000000000 }}"));
    assertEquals("MemoryError", e.pythonType());
    assertTrue(e.reason().contains("maxOutputChars"), e.reason());
    e = fails(ChatTemplate.of("{{ ([1, 2] * 100000000) | length }}"));
    assertEquals("MemoryError", e.pythonType());
    e = fails(ChatTemplate.of("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"));
    assertEquals("MemoryError", e.pythonType());
    e = fails(ChatTemplate.of("{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}"));
    assertEquals("MemoryError", e.pythonType());
    assertTrue(e.reason().contains("16000000"), e.reason());
  }

  @Test
  void loopsThatNeverEndStopAtTheIterationOrTimeLimit() {
    String nested = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
    TemplateException e = fails(ChatTemplate.of(nested));
    assertEquals("RuntimeError", e.pythonType());
    assertTrue(e.reason().contains("maxLoopIterations"), e.reason());
    long t0 = System.nanoTime();
    e = fails(ChatTemplate.of(nested).withLimits(new TemplateLimits(500, 16_000_000, Long.MAX_VALUE, Duration.ofMillis(200))));
    assertEquals("TimeoutError", e.pythonType());
    assertTrue(e.reason().contains("maxTime"), e.reason());
    assertTrue(System.nanoTime() - t0 < 60e9, "stopped near its time limit");
  }
}
