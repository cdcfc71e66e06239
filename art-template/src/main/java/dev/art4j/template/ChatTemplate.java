package dev.art4j.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint's chat template: turns a conversation (plus the tools on offer) into the exact
 * prompt text the model was trained on, as Hugging Face transformers' {@code apply_chat_template}
 * does. The template is Jinja source, run by our own interpreter of the Jinja2 subset that chat
 * templates use, with transformers' settings ({@code trim_blocks}, {@code lstrip_blocks},
 * {@code loopcontrols}, the immutable sandbox, {@code tojson} as {@code json.dumps(ensure_ascii=False)},
 * {@code raise_exception(msg)}, {@code strftime_now(fmt)}).
 *
 * <p>Parsed once, rendered many times; instances are immutable and thread-safe.
 *
 * <pre>{@code
 * ChatTemplate template = ChatTemplate.fromTokenizerConfig(dir.resolve("tokenizer_config.json"));
 * String prompt = template.render(messages, toolset.tools(), true, Map.of());
 * }</pre>
 */
public final class ChatTemplate {

  private static final Logger LOG = LoggerFactory.getLogger(ChatTemplate.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> SPECIAL_TOKENS =
      List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

  /** The ChatML template (Qwen's format), for checkpoints that ship without one. */
  public static final String CHATML_SOURCE =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private final Compiled main;
  private final Compiled toolUse;
  private final Map<String, Object> specialTokens;

  /** A parsed template and the interpreter (with its clock) that renders it. */
  private record Compiled(String source, Source text, List<Node.Stmt> body, Interpreter interpreter) {
    static Compiled of(String source, Clock clock) {
      Source s = new Source(source);
      return new Compiled(source, s, Parser.parse(s), new Interpreter(s, clock));
    }

    Compiled withClock(Clock clock) {
      return new Compiled(source, text, body, new Interpreter(text, clock));
    }
  }

  private ChatTemplate(Compiled main, Compiled toolUse, Map<String, Object> specialTokens) {
    this.main = main;
    this.toolUse = toolUse;
    this.specialTokens = specialTokens;
  }

  /**
   * A template from its Jinja source, with no special tokens.
   *
   * @throws TemplateException if the source does not parse
   */
  public static ChatTemplate of(String source) {
    Objects.requireNonNull(source, "source");
    Clock clock = Clock.systemDefaultZone();
    return new ChatTemplate(Compiled.of(source, clock), null, Map.of());
  }

  /** ChatML ({@code <|im_start|>role\ncontent<|im_end|>\n}), transformers' old default. */
  public static ChatTemplate chatml() {
    return of(CHATML_SOURCE);
  }

  /**
   * The template of a checkpoint: {@code chat_template} in {@code tokenizer_config.json} (a string,
   * or a list of named templates: "default", and "tool_use" when tools are given), else a
   * {@code chat_template.jinja} or {@code chat_template.json} next to it, else ChatML. The special
   * tokens ({@code bos_token}, {@code eos_token}, ...; strings or {@code {"content": ...}} objects)
   * become template variables, as transformers passes them.
   *
   * @throws UncheckedIOException if the file cannot be read or is not JSON
   * @throws TemplateException    if the template does not parse
   */
  public static ChatTemplate fromTokenizerConfig(Path tokenizerConfig) {
    JsonNode config;
    try {
      config = JSON.readTree(tokenizerConfig.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer config " + tokenizerConfig + ": " + e.getMessage(), e);
    }
    if (config == null || !config.isObject()) {
      throw new IllegalArgumentException(tokenizerConfig + ": expected a JSON object");
    }
    Map<String, Object> special = new LinkedHashMap<>();
    for (String name : SPECIAL_TOKENS) {
      String token = tokenContent(config.get(name), tokenizerConfig, name);
      if (token != null) {
        special.put(name, token);
      }
    }
    JsonNode extra = config.get("additional_special_tokens");
    if (extra != null && extra.isArray()) {
      List<Object> tokens = new ArrayList<>();
      for (JsonNode t : extra) {
        tokens.add(tokenContent(t, tokenizerConfig, "additional_special_tokens"));
      }
      special.put("additional_special_tokens", tokens);
    }
    JsonNode template = config.get("chat_template");
    Path dir = tokenizerConfig.toAbsolutePath().getParent();
    try {
      if ((template == null || template.isNull()) && dir != null) {
        Path jinja = dir.resolve("chat_template.jinja");
        Path json = dir.resolve("chat_template.json");
        if (Files.isRegularFile(jinja)) {
          template = JSON.getNodeFactory().textNode(Files.readString(jinja));
        } else if (Files.isRegularFile(json)) {
          template = JSON.readTree(json.toFile()).get("chat_template");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read chat template next to " + tokenizerConfig, e);
    }
    Clock clock = Clock.systemDefaultZone();
    Map<String, Object> tokens = Collections.unmodifiableMap(special);
    if (template == null || template.isNull()) {
      LOG.warn("{} has no chat_template; using ChatML", tokenizerConfig);
      return new ChatTemplate(Compiled.of(CHATML_SOURCE, clock), null, tokens);
    }
    if (template.isTextual()) {
      return new ChatTemplate(Compiled.of(template.textValue(), clock), null, tokens);
    }
    Map<String, String> named = new LinkedHashMap<>();
    if (template.isArray()) {
      for (JsonNode t : template) {
        named.put(t.path("name").asText(), t.path("template").asText());
      }
    } else if (template.isObject()) {
      template.properties().forEach(e -> named.put(e.getKey(), e.getValue().asText()));
    } else {
      throw new IllegalArgumentException(tokenizerConfig + ": chat_template must be a string or a list of {name, template}");
    }
    String toolUse = named.get("tool_use");
    String main = named.get("default");
    if (main == null && toolUse == null) {
      throw new IllegalArgumentException(tokenizerConfig + ": chat_template lists " + named.keySet()
          + " but no 'default' template");
    }
    return new ChatTemplate(
        main == null ? null : Compiled.of(main, clock),
        toolUse == null ? null : Compiled.of(toolUse, clock),
        tokens);
  }

  private static String tokenContent(JsonNode node, Path file, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isObject() && node.get("content") != null && node.get("content").isTextual()) {
      return node.get("content").textValue();
    }
    throw new IllegalArgumentException(file + ": " + field + " must be a string or an object with \"content\"");
  }

  /**
   * The same template with {@code strftime_now} reading the given clock (its zone gives the local
   * time), for reproducible prompts and tests.
   */
  public ChatTemplate withClock(Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return new ChatTemplate(
        main == null ? null : main.withClock(clock),
        toolUse == null ? null : toolUse.withClock(clock),
        specialTokens);
  }

  /** The Jinja source used when no tools are given. */
  public String source() {
    return (main != null ? main : toolUse).source();
  }

  /** The special tokens read from the tokenizer config, passed to every render. */
  public Map<String, Object> specialTokens() {
    return specialTokens;
  }

  /**
   * Renders a conversation as transformers' {@code apply_chat_template(messages, tools=...,
   * add_generation_prompt=..., **extra)} does. Messages become dicts {@code {role, content,
   * tool_calls: [{id?, type: "function", function: {name, arguments: <parsed JSON>}}],
   * tool_call_id?, name?, reasoning_content?}}, tools {@code {type: "function", function: {name,
   * description, parameters}}}. No tools (null or empty) passes {@code tools=None}.
   *
   * @param extraVariables further template variables ({@code enable_thinking}, ...); they override
   * @throws TemplateException when the template raises or fails
   */
  public String render(List<Message> messages, List<ToolSpec> tools, boolean addGenerationPrompt,
      Map<String, Object> extraVariables) {
    Map<String, Object> context = new LinkedHashMap<>(specialTokens);
    List<Object> msgs = new ArrayList<>(messages.size());
    for (Message m : messages) {
      msgs.add(Convert.message(m));
    }
    context.put("messages", msgs);
    List<Object> toolDicts = null;
    if (tools != null && !tools.isEmpty()) {
      toolDicts = new ArrayList<>(tools.size());
      for (ToolSpec t : tools) {
        toolDicts.add(Convert.tool(t));
      }
    }
    context.put("tools", toolDicts);
    context.put("documents", null);
    context.put("add_generation_prompt", addGenerationPrompt);
    if (extraVariables != null) {
      extraVariables.forEach((k, v) -> context.put(k, Convert.fromJava(v)));
    }
    return renderValues(context);
  }

  /**
   * Renders with the given variables (JSON-like Java values: maps, lists, strings, numbers,
   * booleans, null, JsonNode), exactly as given: unlike {@link #render(List, List, boolean, Map)} no
   * {@code tools}/{@code documents} are added. The checkpoint's special tokens are added unless the
   * context has them.
   *
   * @throws TemplateException when the template raises or fails
   */
  public String render(Map<String, Object> context) {
    Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
    context.forEach((k, v) -> vars.put(k, Convert.fromJava(v)));
    return renderValues(vars);
  }

  private String renderValues(Map<String, Object> context) {
    Compiled t = context.get("tools") != null && toolUse != null ? toolUse : main;
    if (t == null) {
      throw new IllegalStateException("this checkpoint has only a 'tool_use' chat template and no tools were given");
    }
    try {
      return t.interpreter().render(t.body(), context);
    } catch (StackOverflowError e) {
      // a macro that calls itself without end; Python gives up the same way
      throw new TemplateException("RecursionError", "maximum recursion depth exceeded", 0, 0);
    }
  }
}
