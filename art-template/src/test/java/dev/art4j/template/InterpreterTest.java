package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The interpreter's behaviours one at a time, each expected string being what Python's Jinja2
 * renders with transformers' settings (trim_blocks, lstrip_blocks, loopcontrols).
 */
class InterpreterTest {

  private static String render(String template, Object... keyValues) {
    Map<String, Object> ctx = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      ctx.put((String) keyValues[i], keyValues[i + 1]);
    }
    return ChatTemplate.of(template).render(ctx);
  }

  private static TemplateException error(String template, Object... keyValues) {
    return assertThrows(TemplateException.class, () -> render(template, keyValues));
  }

  // ---- whitespace ----

  @Test
  void trimBlocksDropsTheNewlineAfterABlockTag() {
    assertEquals("yes\nafter", render("{% if true %}\nyes\n{% endif %}\nafter"));
  }

  @Test
  void lstripBlocksDropsIndentBeforeBlockTagsButNotBeforeVariables() {
    assertEquals("a\n    b\nc", render("a\n    {% if true %}\n    b\n    {% endif %}\nc"));
    assertEquals("x\n    v\n  y", render("x\n    {{ 'v' }}\n  {% if true %}  y{% endif %}"));
  }

  @Test
  void lstripBlocksOnlyAppliesWhenTheTagStartsItsLine() {
    assertEquals("a  b  c", render("a  {% if true %}b{% endif %}  c"));
  }

  @Test
  void dashesStripAllWhitespaceOnTheirSide() {
    assertEquals("abc", render("a   \n  {%- if true -%}   \n  b  \n  {%- endif -%}  \n  c"));
    assertEquals("abc\n  d  e", render("a  {{- 'b' -}}  c\n  {{ 'd' }}  e"));
  }

  @Test
  void plusSignsKeepWhitespace() {
    assertEquals("a\n    b", render("a\n    {%+ if true %}b{% endif %}"));
    assertEquals("\nb", render("{% if true +%}\nb{% endif %}"));
  }

  @Test
  void oneTrailingNewlineOfTheTemplateIsDropped() {
    assertEquals("line", render("line\n"));
    assertEquals("line\n", render("line\n\n"));
  }

  @Test
  void loopBodyWhitespaceAsJinja2() {
    assertEquals("  0\n  1\nx  2\nx", render("{% for i in range(3) %}\n  {{ i }}\n  {% if i %}x{% endif %}\n{% endfor %}"));
  }

  // ---- loops ----

  @Test
  void loopVariables() {
    assertEquals("1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;",
        render("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
            + "{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "xs", List.of(3, 1, 2)));
  }

  @Test
  void previousAndNextItemsAreUndefinedAtTheEnds() {
    assertEquals("[|3|1][3|1|2][1|2|]",
        render("{% for x in xs %}[{{ loop.previtem }}|{{ x }}|{{ loop.nextitem }}]{% endfor %}", "xs", List.of(3, 1, 2)));
  }

  @Test
  void elseBranchRunsForAnEmptyLoop() {
    assertEquals("none|12", render("{% for x in [] %}x{% else %}none{% endfor %}|{% for x in [1, 2] %}{{ x }}{% else %}none{% endfor %}"));
  }

  @Test
  void inlineLoopFilterCountsOnlyKeptItems() {
    assertEquals("1/2=5 2/2=7 ", render("{% for x in [1, 5, 2, 7] if x > 4 %}{{ loop.index }}/{{ loop.length }}={{ x }} {% endfor %}"));
  }

  @Test
  void breakAndContinue() {
    assertEquals("0134", render("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"));
  }

  @Test
  void inlineIfWithAndWithoutElse() {
    assertEquals("big [] b", render("{{ 'big' if n > 5 else 'small' }} [{{ 'x' if false }}] {{ 'a' if false else 'b' }}", "n", 7));
  }

  @Test
  void setInsideALoopDoesNotLeakButNamespaceDoes() {
    assertEquals("12121", render("{% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"));
    assertEquals("3 ['a', 'b', 'c']", render("{% set ns = namespace(n=0, seen=[]) %}{% for c in 'abc' %}{% set ns.n = ns.n + 1 %}"
        + "{% set ns.seen = ns.seen + [c] %}{% endfor %}{{ ns.n }} {{ ns.seen }}"));
  }

  // ---- values ----

  @Test
  void slicingWithNegativeSteps() {
    assertEquals("[2, 1, 3] [1, 2] cba lo [3, 2]",
        render("{{ xs[::-1] }} {{ xs[1:] }} {{ 'abc'[::-1] }} {{ 'hello'[-2:] }} {{ [1, 2, 3][:0:-1] }}", "xs", List.of(3, 1, 2)));
  }

  @Test
  void numbersAndConstantsPrintAsPython() {
    assertEquals("1 1.0 0.5 2.0 1e+16 1e-05 True None", render("{{ 1 }} {{ 1.0 }} {{ 1 / 2 }} {{ 4 / 2 }} {{ 1e16 }} {{ 0.00001 }} {{ true }} {{ none }}"));
  }

  @Test
  void undefinedIsFalsyAndPrintsEmpty() {
    assertEquals("[][F][0]", render("[{{ missing }}][{{ 'T' if missing else 'F' }}][{{ missing|length }}]"));
  }

  @Test
  void dictsKeepInsertionOrder() {
    assertEquals("{'z': 1, 'a': 2} z,a", render("{% set d = {'z': 1, 'a': 2} %}{{ d }} {{ d.keys()|join(',') }}"));
  }

  // ---- macros ----

  @Test
  void macrosWithDefaultsAndCaller() {
    assertEquals("1-2 <b>hi</b> [3][1][2]",
        render("{% macro f(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{% macro wrap(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}"
            + "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}"
            + "{{ f(1) }} {% call wrap('b') %}hi{% endcall %} {% call(x) each([3, 1, 2]) %}[{{ x }}]{% endcall %}"));
  }

  // ---- filters and methods ----

  @Test
  void filtersChatTemplatesUse() {
    assertEquals("a, b|A|2|['x', 'y']|[2]|b|a|3|x|hi|1",
        render("{{ ['a', 'b']|join(', ') }}|{{ 'a'|upper }}|{{ [1, 2]|length }}|{{ ps|map(attribute='n')|list }}"
            + "|{{ [1, 2]|select('even')|list }}|{{ ['a', 'b']|last }}|{{ missing|default('a') }}|{{ '3'|int }}"
            + "|{{ ps|selectattr('n', 'equalto', 'x')|map(attribute='n')|first }}|{{ '  hi '|trim }}|{{ {'k': 1}|items|list|length }}",
            "ps", List.of(Map.of("n", "x"), Map.of("n", "y"))));
  }

  @Test
  void tojsonIsPythonJsonDumps() {
    assertEquals("{\"a\": [1, 2.5, null, true], \"é\": \"\\\"q\\\"\\n\"}",
        render("{{ {'a': [1, 2.5, none, true], 'é': '\"q\"\\n'}|tojson }}"));
    assertEquals("{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}", render("{{ {'a': [1], 'b': {}}|tojson(indent=2) }}"));
  }

  @Test
  void stringMethods() {
    assertEquals("x|a b|['a', 'b', '']|True|Hello World|think",
        render("{{ '\\n\\nx\\n'.strip('\\n') }}|{{ '  a b  '.strip() }}|{{ 'a,b,'.split(',') }}|{{ 'abc'.startswith('ab') }}"
            + "|{{ 'hello world'.title() }}|{{ '<think>think</think>'.split('</think>')[0].split('<think>')[-1] }}"));
  }

  @Test
  void strftimeNowReadsTheInjectedClock() {
    assertEquals("2026-01-02 03:04:05 02 Jan 2026",
        ChatTemplate.of("{{ strftime_now('%Y-%m-%d %H:%M:%S') }} {{ strftime_now('%d %b %Y') }}")
            .withClock(TemplateCases.FIXED_CLOCK).render(Map.of()));
  }

  // ---- errors: a clear message with line and column, never a silent wrong render ----

  @Test
  void unterminatedBlockNamesTheBlock() {
    TemplateException e = error("{% for x in xs %}\n{{ x }}");
    assertEquals("TemplateSyntaxError", e.pythonType());
    assertEquals("Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'."
        + " The innermost block that needs to be closed is 'for'.", e.reason());
    assertEquals(2, e.line());
  }

  @Test
  void unknownFilterFailsAtParseTimeWithItsPosition() {
    TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.of("{% set a = 1 %}\n{{ a|frobnicate }}"));
    assertEquals("No filter named 'frobnicate'.", e.reason());
    assertEquals(2, e.line());
    assertEquals(6, e.column());
  }

  @Test
  void unknownTestFails() {
    TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.of("{{ 1 is frobnicated }}"));
    assertEquals("No test named 'frobnicated'.", e.reason());
    assertEquals(1, e.line());
  }

  @Test
  void unknownMethodFailsWhenCalled() {
    TemplateException e = error("{% if true %}\n  {{ 'abc'.frobnicate() }}{% endif %}");
    assertEquals("UndefinedError: 'str object' has no attribute 'frobnicate'", e.pythonError());
    assertEquals(2, e.line());
  }

  @Test
  void mutatingMethodsAreRefusedAsBySandbox() {
    assertEquals("SecurityError: access to attribute 'append' of 'list' object is unsafe.", error("{{ [1].append(2) }}").pythonError());
  }

  @Test
  void raiseExceptionGivesExactlyTheTemplatesMessage() {
    TemplateException e = error("line one\n{{ raise_exception('Only user and assistant roles are supported!') }}");
    assertEquals("Only user and assistant roles are supported!", e.getMessage());
    assertEquals(2, e.line());
  }

  @Test
  void endlessMacroRecursionIsAnErrorNotACrash() {
    TemplateException e = error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assertEquals("RecursionError: maximum recursion depth exceeded", e.pythonError());
  }
}
