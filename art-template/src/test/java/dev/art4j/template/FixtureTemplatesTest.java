package dev.art4j.template;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every reference fixture under {@code fixtures/templates/*}: a real model family's
 * {@code tokenizer_config.json} and the text Python's Jinja2 rendered for each case, exactly as
 * transformers' {@code apply_chat_template} does. Each must come out byte for byte.
 */
class FixtureTemplatesTest {

  @TestFactory
  List<DynamicContainer> everyFixtureCaseRendersAsTransformers() throws IOException {
    Path root = Path.of(System.getProperty("art4j.fixtures", "src/test/resources/fixtures")).resolve("templates");
    List<DynamicContainer> families = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
        JsonNode expected = TemplateCases.JSON.readTree(dir.resolve("expected.json").toFile());
        Path config = dir.resolve("tokenizer_config.json");
        List<DynamicTest> cases = new ArrayList<>();
        for (JsonNode c : expected.get("cases")) {
          cases.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> TemplateCases.check(
              () -> ChatTemplate.fromTokenizerConfig(config).withClock(TemplateCases.FIXED_CLOCK), c)));
        }
        assertFalse(cases.isEmpty(), dir + " has no cases");
        families.add(DynamicContainer.dynamicContainer(dir.getFileName().toString(), cases));
      }
    }
    assertTrue(families.size() >= 2, "expected the template fixtures under " + root);
    return families;
  }
}
