package dev.art4j.rollout.agent;

/**
 * Reads tool calls out of the text a model generated, in the format its chat template taught it.
 * Never throws for a bad call: a call that cannot be read is returned with a
 * {@link ParsedCall#problem() problem} that tells the model exactly what was wrong.
 *
 * <p>Two formats ship: {@link #hermes()} ({@code <tool_call>{"name":..,"arguments":{..}}</tool_call>},
 * Qwen2.5 and Qwen3, several calls per turn, {@code <think>} blocks) and {@link #llama3Json()}
 * (Llama 3.1/3.2 JSON calls {@code {"name":..,"parameters":{..}}}).
 */
public interface ToolCallParser {

  /**
   * Splits a reply into text, reasoning and tool calls. Call ids are {@code idPrefix + index}.
   *
   * @param text the decoded reply, without the end-of-turn token
   */
  ParsedReply parse(String text, String idPrefix);

  /** {@link #parse(String, String)} with ids {@code call_0, call_1, ...}. */
  default ParsedReply parse(String text) {
    return parse(text, "call_");
  }

  /**
   * The text a reply starts with when it calls a tool: prefilled after the generation prompt to
   * force a call (OpenAI's {@code tool_choice}). With a name, the prefix also writes the name.
   *
   * @param toolName the tool to force, or null to force some call and let the model choose
   */
  String forcedCallPrefix(String toolName);

  /**
   * The text that closes a forced call after its arguments (Hermes: <code>}\n&lt;/tool_call&gt;</code>):
   * a forced call is constrained to {@code forcedCallPrefix(name)}, arguments valid under the
   * tool's schema, then this.
   */
  default String forcedCallSuffix() {
    return "}";
  }

  /** Qwen2.5 / Qwen3 (Hermes) format. */
  static ToolCallParser hermes() {
    return new HermesToolCallParser();
  }

  /** Llama 3.1 / 3.2 JSON tool calls. */
  static ToolCallParser llama3Json() {
    return new Llama3ToolCallParser();
  }

  /**
   * The parser a chat template calls for, from the template's source: Hermes when it mentions
   * {@code <tool_call>}, Llama 3 JSON when it uses {@code <|eot_id|>}, else Hermes (the most
   * common format among open-weight models, and what a plain ChatML model can be taught).
   */
  static ToolCallParser forTemplate(String templateSource) {
    if (templateSource != null && !templateSource.contains("<tool_call>") && templateSource.contains("<|eot_id|>")) {
      return llama3Json();
    }
    return hermes();
  }
}
