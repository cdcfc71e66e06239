package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The two Jinja2 behaviours real templates hit that a plain-string interpreter misses. Expected
 * texts are Jinja2 3.1.6's output (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks).
 */
class MarkupAndGeneratorTest {

  static String render(String template) {
    return ChatTemplate.of(template).render(Map.of());
  }

  @Test
  void aSafeStringPlusAPlainOneEscapesThePlainOne() {
    assertEquals("<a>&lt;b&gt;", render("{{ '<a>'|safe + '<b>' }}"));
    assertEquals("&lt;b&gt;<a>", render("{{ '<b>' + '<a>'|safe }}"));
    assertEquals("<a>&#34;x&#34;&#39;<c>", render("{{ ('<a>'|safe + '\"x\"' + \"'\") ~ '<c>' }}"));
    assertEquals("<a><b>", render("{{ '<a>'|safe + '<b>'|safe }}"));
    assertEquals("<a><b>", render("{{ '<a>'|safe ~ '<b>' }}"));
    assertEquals("<p>&amp;", render("{% set x = '<p>'|safe + '&' %}{{ x }}"));
  }

  @Test
  void mapAndSelectAreLazyAsInJinja2() {
    TemplateException e = assertThrows(TemplateException.class, () -> render("{{ ['a']|map('upper')|tojson }}"));
    assertEquals("TypeError: Object of type generator is not JSON serializable", e.pythonError());
    e = assertThrows(TemplateException.class, () -> render("{{ [1]|select|length }}"));
    assertEquals("TypeError: object of type 'generator' has no len()", e.pythonError());
    assertEquals("[\"A\", \"B\"]", render("{{ ['a','b']|map('upper')|list|tojson }}"));
    assertEquals("A,B", render("{{ ['a','b']|map('upper')|join(',') }}"));
    assertEquals("['A', 'B'][]", render("{% set m = ['a','b']|map('upper') %}{{ m|list }}{{ m|list }}"));
    assertEquals("yes", render("{% if []|select %}yes{% else %}no{% endif %}"));
    assertEquals("True", render("{{ 'A' in ['a']|map('upper') }}"));
  }
}
