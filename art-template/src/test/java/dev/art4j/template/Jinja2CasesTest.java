package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The interpreter against Python's Jinja2, case by case: {@code template/jinja2-cases.json} holds
 * small templates, all rendered with the same variables, covering whitespace control, loops, slicing, namespaces, macros, filters,
 * tests, methods, {@code tojson} and errors, each with the output (or error) Jinja2 3.1 gave
 * when set up as transformers sets it up ({@code generate_jinja2_cases.py} beside it regenerates it).
 */
class Jinja2CasesTest {

  @TestFactory
  List<DynamicTest> rendersEveryCaseAsJinja2() throws IOException {
    JsonNode root;
    try (InputStream in = getClass().getResourceAsStream("/template/jinja2-cases.json")) {
      root = TemplateCases.JSON.readTree(in);
    }
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : root.get("cases")) {
      String source = c.get("template").textValue();
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(),
          () -> TemplateCases.check(() -> ChatTemplate.of(source).withClock(TemplateCases.FIXED_CLOCK), c, root.get("context"))));
    }
    assertTrue(tests.size() > 100, "case table too small: " + tests.size());
    return tests;
  }
}
