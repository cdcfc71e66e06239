package dev.art4j.examples.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The starters' chat format: ChatML with a compact tool prompt. The system turn lists the tool
 * names only (no JSON schemas: a tiny model's prompt must stay short), an assistant tool call is
 * {@code <tool_call>{"name": "add", "arguments": {"a": 3, "b": 4}}</tool_call>}, and a tool result
 * is a {@code tool} turn:
 *
 * <pre>
 * &lt;|im_start|&gt;system
 * Tools: add subtract multiply division&lt;|im_end|&gt;
 * &lt;|im_start|&gt;user
 * What is 37 times 12?&lt;|im_end|&gt;
 * &lt;|im_start|&gt;assistant
 * &lt;tool_call&gt;{"name": "multiply", "arguments": {"a": 37, "b": 12}}&lt;/tool_call&gt;&lt;|im_end|&gt;
 * &lt;|im_start|&gt;tool
 * 444&lt;|im_end|&gt;
 * &lt;|im_start|&gt;assistant
 * The answer is 444.&lt;|im_end|&gt;
 * </pre>
 *
 * <p>{@link #TEMPLATE} is the Jinja {@code chat_template} written into {@code tokenizer_config.json}
 * (what the library's template interpreter renders); {@link #render} is the same format in Java,
 * used to build the tokenizer's training corpus and to check the Jinja text.
 */
final class CompactChatMl {

  static final String IM_START = "<|im_start|>";
  static final String IM_END = "<|im_end|>";
  static final String END_OF_TEXT = "<|endoftext|>";
  static final String TOOL_CALL = "<tool_call>";
  static final String TOOL_CALL_END = "</tool_call>";

  /** Added tokens in id order, each with whether it is special (skipped by skip_special_tokens). */
  static LinkedHashMap<String, Boolean> addedTokens() {
    return addedTokens(List.of());
  }

  /** {@link #addedTokens()} followed by a spec's fused tokens (not special). */
  static LinkedHashMap<String, Boolean> addedTokens(List<String> fused) {
    LinkedHashMap<String, Boolean> t = new LinkedHashMap<>();
    t.put(END_OF_TEXT, true);
    t.put(IM_START, true);
    t.put(IM_END, true);
    // as in Qwen2.5: not special, so decoded text keeps the markup the tool-call parser looks for
    t.put(TOOL_CALL, false);
    t.put(TOOL_CALL_END, false);
    for (String f : fused) {
      t.put(f, false);
    }
    return t;
  }

  static final String TEMPLATE = """
      {%- if tools %}
      {{- '<|im_start|>system\\n' }}
      {%- if messages[0].role == 'system' %}
      {{- messages[0].content + '\\n' }}
      {%- endif %}
      {{- 'Tools:' }}
      {%- for tool in tools %}
      {%- if tool.function is defined %}
      {{- ' ' + tool.function.name }}
      {%- else %}
      {{- ' ' + tool.name }}
      {%- endif %}
      {%- endfor %}
      {{- '<|im_end|>\\n' }}
      {%- elif messages[0].role == 'system' %}
      {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
      {%- endif %}
      {%- for message in messages %}
      {%- if message.role == 'user' or message.role == 'tool' %}
      {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
      {%- elif message.role == 'assistant' %}
      {{- '<|im_start|>assistant\\n' }}
      {%- if message.content %}
      {{- message.content }}
      {%- endif %}
      {%- if message.tool_calls %}
      {%- for tool_call in message.tool_calls %}
      {%- if tool_call.function is defined %}
      {%- set tool_call = tool_call.function %}
      {%- endif %}
      {{- '<tool_call>{"name": "' + tool_call.name + '", "arguments": ' }}
      {%- if tool_call.arguments is string %}
      {{- tool_call.arguments }}
      {%- else %}
      {{- tool_call.arguments | tojson }}
      {%- endif %}
      {{- '}</tool_call>' }}
      {%- endfor %}
      {%- endif %}
      {{- '<|im_end|>\\n' }}
      {%- endif %}
      {%- endfor %}
      {%- if add_generation_prompt %}
      {{- '<|im_start|>assistant\\n' }}
      {%- endif %}
      """;

  private CompactChatMl() {}

  /** The conversation in this format, exactly as {@link #TEMPLATE} renders it (arguments as written). */
  static String render(List<Message> messages, List<ToolSpec> tools, boolean addGenerationPrompt) {
    StringBuilder sb = new StringBuilder();
    boolean leadingSystem = !messages.isEmpty() && messages.get(0).role().wireName().equals("system");
    if (!tools.isEmpty()) {
      sb.append(IM_START).append("system\n");
      if (leadingSystem) {
        sb.append(messages.get(0).content()).append('\n');
      }
      sb.append("Tools:");
      for (ToolSpec t : tools) {
        sb.append(' ').append(t.name());
      }
      sb.append(IM_END).append('\n');
    } else if (leadingSystem) {
      sb.append(IM_START).append("system\n").append(messages.get(0).content()).append(IM_END).append('\n');
    }
    for (Message m : messages) {
      switch (m.role()) {
        case USER, TOOL -> sb.append(IM_START).append(m.role().wireName()).append('\n').append(m.content())
            .append(IM_END).append('\n');
        case ASSISTANT -> {
          sb.append(IM_START).append("assistant\n").append(m.content());
          for (ToolCall c : m.toolCalls()) {
            sb.append(toolCallText(c.name(), c.argumentsJson()));
          }
          sb.append(IM_END).append('\n');
        }
        case SYSTEM -> { }
      }
    }
    if (addGenerationPrompt) {
      sb.append(IM_START).append("assistant\n");
    }
    return sb.toString();
  }

  /** One tool call as the model writes it. */
  static String toolCallText(String name, String argumentsJson) {
    return TOOL_CALL + "{\"name\": \"" + name + "\", \"arguments\": " + argumentsJson + "}" + TOOL_CALL_END;
  }

  /**
   * {@code tokenizer_config.json}: the chat template, eos {@code <|im_end|>}, pad
   * {@code <|endoftext|>}, and the added tokens' ids.
   */
  static ObjectNode tokenizerConfig(ObjectMapper json, int firstAddedId) {
    ObjectNode root = json.createObjectNode();
    ObjectNode decoder = root.putObject("added_tokens_decoder");
    int id = firstAddedId;
    for (var t : addedTokens().entrySet()) {
      decoder.putObject(Integer.toString(id++)).put("content", t.getKey()).put("lstrip", false)
          .put("normalized", false).put("rstrip", false).put("single_word", false).put("special", t.getValue());
    }
    root.putArray("additional_special_tokens").add(IM_START).add(IM_END);
    root.putNull("bos_token");
    root.put("chat_template", TEMPLATE);
    root.put("clean_up_tokenization_spaces", false);
    root.put("eos_token", IM_END);
    root.put("errors", "replace");
    root.put("model_max_length", 2048);
    root.put("pad_token", END_OF_TEXT);
    root.put("split_special_tokens", false);
    root.put("tokenizer_class", "Qwen2Tokenizer");
    root.putNull("unk_token");
    return root;
  }
}
