package dev.art4j.rollout.agent;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.template.ChatTemplate;
import dev.art4j.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How one model speaks: its chat template, its tokenizer, the tool-call format its template
 * teaches, and the token that ends an assistant turn (found by rendering a one-line exchange and
 * looking for which end-of-sequence token the template writes after the assistant's text:
 * {@code <|im_end|>} for ChatML/Qwen, {@code <|eot_id|>} for Llama 3). Immutable, thread-safe.
 */
public final class ChatFormat {

  private final ChatTemplate template;
  private final Tokenizer tokenizer;
  private final ToolCallParser parser;
  private final Map<String, Object> templateVariables;
  private final int endOfTurnId;
  private final String endOfTurn;

  private ChatFormat(ChatTemplate template, Tokenizer tokenizer, ToolCallParser parser,
      Map<String, Object> templateVariables, int endOfTurnId, String endOfTurn) {
    this.template = template;
    this.tokenizer = tokenizer;
    this.parser = parser;
    this.templateVariables = templateVariables;
    this.endOfTurnId = endOfTurnId;
    this.endOfTurn = endOfTurn;
  }

  /**
   * The format of a template and tokenizer; the parser is chosen from the template's source
   * ({@link ToolCallParser#forTemplate}).
   *
   * @throws IllegalArgumentException if the template writes none of the tokenizer's
   *     end-of-sequence tokens after an assistant message
   */
  public static ChatFormat of(ChatTemplate template, Tokenizer tokenizer) {
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(tokenizer, "tokenizer");
    String probe = "Kx7q";
    String rendered = template.render(List.of(Message.user("hi"), Message.assistant(probe)), List.of(), false, Map.of());
    int after = rendered.lastIndexOf(probe) + probe.length();
    int best = Integer.MAX_VALUE;
    int bestId = -1;
    for (int id : tokenizer.eosTokenIds()) {
      String token = tokenizer.idToToken(id);
      int at = token == null ? -1 : rendered.indexOf(token, after);
      if (at >= 0 && at < best) {
        best = at;
        bestId = id;
      }
    }
    if (bestId < 0) {
      throw new IllegalArgumentException("the chat template writes none of the end-of-sequence tokens "
          + tokenizer.eosTokenIds() + " after an assistant message (rendered: "
          + CallJson.abbreviate(rendered.substring(Math.max(0, after - 20)), 80) + "); set eos_token in tokenizer_config.json");
    }
    return new ChatFormat(template, tokenizer, ToolCallParser.forTemplate(template.source()), Map.of(), bestId,
        tokenizer.idToToken(bestId));
  }

  /** Loads the template ({@code tokenizer_config.json}, else ChatML) and tokenizer of a checkpoint directory. */
  public static ChatFormat load(Path modelDir) throws IOException {
    Path config = modelDir.resolve("tokenizer_config.json");
    ChatTemplate template = Files.isRegularFile(config) ? ChatTemplate.fromTokenizerConfig(config) : ChatTemplate.chatml();
    return of(template, Tokenizer.load(modelDir));
  }

  /** The same format with another tool-call parser. */
  public ChatFormat withParser(ToolCallParser newParser) {
    return new ChatFormat(template, tokenizer, Objects.requireNonNull(newParser), templateVariables, endOfTurnId, endOfTurn);
  }

  /** The same format passing extra variables to every render (e.g. {@code enable_thinking=false} for Qwen3). */
  public ChatFormat withTemplateVariables(Map<String, Object> variables) {
    return new ChatFormat(template, tokenizer, parser, Map.copyOf(variables), endOfTurnId, endOfTurn);
  }

  public ChatTemplate template() {
    return template;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public ToolCallParser parser() {
    return parser;
  }

  public Map<String, Object> templateVariables() {
    return templateVariables;
  }

  /** The id that ends an assistant turn (e.g. {@code <|im_end|>}). */
  public int endOfTurnId() {
    return endOfTurnId;
  }

  /** The text of {@link #endOfTurnId()}. */
  public String endOfTurn() {
    return endOfTurn;
  }

  /** Renders with this format's template variables. */
  public String render(List<Message> messages, List<ToolSpec> tools, boolean addGenerationPrompt) {
    return template.render(messages, tools, addGenerationPrompt, templateVariables);
  }

  int[] encode(String text) {
    return tokenizer.encode(text);
  }

  /** Text of sampled ids, special tokens kept except a trailing end-of-turn / end-of-sequence id. */
  String decodeReply(int[] sampled) {
    int n = sampled.length;
    if (n > 0 && (sampled[n - 1] == endOfTurnId || tokenizer.eosTokenIds().contains(sampled[n - 1]))) {
      n--;
    }
    return tokenizer.decode(Arrays.copyOf(sampled, n), false);
  }
}
