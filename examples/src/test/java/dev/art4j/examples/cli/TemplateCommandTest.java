package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code art4j template render} in-process: the reference fixtures through the command line. */
class TemplateCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path TEMPLATES =
      Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures")).resolve("templates");

  private record Result(int status, JsonNode json) {}

  private static Result run(String... args) throws Exception {
    PrintStream saved = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Art4j.run(args);
    } finally {
      System.setOut(saved);
    }
    return new Result(status, JSON.readTree(bytes.toString(StandardCharsets.UTF_8)));
  }

  @Test
  void rendersAFixtureCaseByteForByte(@TempDir Path dir) throws Exception {
    JsonNode c = JSON.readTree(TEMPLATES.resolve("qwen3/expected.json").toFile()).get("cases").get(3);
    Path context = dir.resolve("context.json");
    JSON.writeValue(context.toFile(), c.get("context"));
    Result r = run("template", "render", "--config", TEMPLATES.resolve("qwen3/tokenizer_config.json").toString(),
        "--context", context.toString());
    assertEquals(0, r.status());
    assertEquals(c.get("expected").textValue(), r.json().get("text").textValue());
  }

  @Test
  void aRaisingTemplatePrintsItsMessageAndExitsOne(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"chat_template\": \"{% if messages[0].role != 'user' %}"
        + "{{ raise_exception('Conversation roles must start with user') }}{% endif %}{{ bos_token }}\", \"bos_token\": \"<s>\"}");
    Path context = dir.resolve("context.json");
    Files.writeString(context, "{\"messages\": [{\"role\": \"assistant\", \"content\": \"hi\"}]}");
    Result r = run("template", "render", "--config", config.toString(), "--context", context.toString());
    assertEquals(1, r.status());
    assertEquals("Conversation roles must start with user", r.json().get("error").textValue());

    Files.writeString(context, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
    Result ok = run("template", "render", "--config", config.toString(), "--context", context.toString());
    assertEquals(0, ok.status());
    assertEquals("<s>", ok.json().get("text").textValue());
  }

  @Test
  void nowFixesStrftime(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("tokenizer_config.json");
    Files.writeString(config, "{\"chat_template\": \"Today Date: {{ strftime_now('%d %b %Y') }}\"}");
    Path context = dir.resolve("context.json");
    Files.writeString(context, "{}");
    Result r = run("template", "render", "--config", config.toString(), "--context", context.toString(),
        "--now", "2026-01-02T03:04:05");
    assertEquals("Today Date: 02 Jan 2026", r.json().get("text").textValue());
  }
}
