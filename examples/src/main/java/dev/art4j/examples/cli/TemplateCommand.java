package dev.art4j.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.template.ChatTemplate;
import dev.art4j.template.TemplateException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code art4j template ...}: chat templates, rendered as Hugging Face transformers renders them.
 *
 * <pre>
 * art4j template render --config tokenizer_config.json --context context.json
 * {"text": "&lt;|im_start|&gt;user\nHi&lt;|im_end|&gt;\n..."}
 * </pre>
 */
@Command(
    name = "template",
    mixinStandardHelpOptions = true,
    description = "Chat templates: render a checkpoint's own chat_template as transformers does.",
    subcommands = {TemplateCommand.Render.class})
public final class TemplateCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.err);
    return 2;
  }

  /** Renders one context; prints {"text": ...}, or {"error": ...} and exits 1 when the template fails. */
  @Command(
      name = "render",
      mixinStandardHelpOptions = true,
      description = {
        "Render tokenizer_config.json's chat_template with the variables in context.json",
        "(messages, tools, add_generation_prompt, bos_token, ...; the config's special tokens are defaults).",
        "Prints {\"text\": ...}, or {\"error\": ...} with exit status 1 when the template raises."
      })
  static final class Render implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "tokenizer_config.json with chat_template")
    Path config;

    @Option(names = "--context", required = true, paramLabel = "FILE", description = "JSON object of template variables")
    Path context;

    @Option(names = "--now", paramLabel = "DATETIME",
        description = "fixed local time for strftime_now, e.g. 2026-01-02T03:04:05 (default: the clock)")
    LocalDateTime now;

    @Override
    public Integer call() throws IOException {
      PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
      JsonNode ctx = JSON.readTree(context.toFile());
      if (ctx == null || !ctx.isObject()) {
        return print(out, "error", context + ": expected a JSON object of template variables", 1);
      }
      Map<String, Object> variables = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : ctx.properties()) {
        variables.put(e.getKey(), e.getValue());
      }
      try {
        ChatTemplate template = ChatTemplate.fromTokenizerConfig(config);
        if (now != null) {
          template = template.withClock(Clock.fixed(now.toInstant(ZoneOffset.UTC), ZoneOffset.UTC));
        }
        return print(out, "text", template.render(variables), 0);
      } catch (TemplateException e) {
        return print(out, "error", e.getMessage(), 1);
      }
    }

    private static int print(PrintStream out, String key, String value, int status) throws IOException {
      Map<String, String> result = new LinkedHashMap<>();
      result.put(key, value);
      out.println(JSON.writeValueAsString(result));
      out.flush();
      return status;
    }
  }
}
