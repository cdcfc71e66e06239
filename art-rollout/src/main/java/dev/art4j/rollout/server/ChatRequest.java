package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.rollout.agent.ToolChoice;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.UnsupportedSchemaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed {@code POST /v1/chat/completions} body. Every rule broken is a
 * {@link BadRequestException} naming the field, as OpenAI's API answers.
 */
record ChatRequest(List<Message> messages, List<ToolSpec> tools, ToolChoice toolChoice, SamplingFields.Common common,
    boolean logprobs, int topLogprobs, JsonNode responseSchema) {

  /** The schema {@code response_format: {"type": "json_object"}} stands for. */
  static final JsonNode ANY_OBJECT = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
      .put("type", "object");

  /** Whether the reply must be a tool call (required or named {@code tool_choice}). */
  boolean forcesCall() {
    return toolChoice.mode() == ToolChoice.Mode.REQUIRED || toolChoice.mode() == ToolChoice.Mode.FUNCTION;
  }

  SamplingParams sampling() {
    return common.sampling();
  }

  int n() {
    return common.n();
  }

  static ChatRequest parse(JsonNode body, SamplingParams defaults, int maxN, int vocab) {
    if (body == null || !body.isObject()) {
      throw new BadRequestException("the request body must be a JSON object", null);
    }
    JsonNode msgs = body.get("messages");
    if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
      throw new BadRequestException("'messages' must be a non-empty array", "messages");
    }
    List<Message> messages = new ArrayList<>();
    for (int i = 0; i < msgs.size(); i++) {
      messages.add(message(msgs.get(i), "messages[" + i + "]"));
    }
    List<ToolSpec> tools = tools(body.get("tools"));
    ToolChoice choice = toolChoice(body.get("tool_choice"), tools);
    JsonNode responseSchema = responseFormat(body.get("response_format"));
    JsonNode kwargs = body.get("chat_template_kwargs");
    if (present(kwargs) && !(kwargs.isObject() && kwargs.isEmpty())) {
      throw new BadRequestException("'chat_template_kwargs' is not supported by this server (the template's variables are "
          + "fixed when it starts)", "chat_template_kwargs");
    }
    SamplingFields.Common common = SamplingFields.parse(body, defaults, maxN, vocab);
    JsonNode lp = body.get("logprobs");
    boolean logprobs = present(lp) && SamplingFields.bool(lp, "logprobs");
    JsonNode top = body.get("top_logprobs");
    int topLogprobs = 0;
    if (present(top)) {
      long v = SamplingFields.integer(top, "top_logprobs");
      if (v < 0 || v > SamplingParams.MAX_TOP_LOGPROBS) {
        throw new BadRequestException("'top_logprobs' must be an integer from 0 to " + SamplingParams.MAX_TOP_LOGPROBS + ", got " + v,
            "top_logprobs");
      }
      if (v > 0 && !logprobs) {
        throw new BadRequestException("'top_logprobs' needs 'logprobs': true", "top_logprobs");
      }
      topLogprobs = (int) v;
    }
    common = new SamplingFields.Common(common.sampling().toBuilder().topLogprobs(topLogprobs).build(), common.n(), common.stream(),
        common.includeUsage(), common.skipSpecialTokens(), common.includeStopStr(), common.returnTokensAsTokenIds(), common.model());
    return new ChatRequest(messages, tools, choice, common, logprobs, topLogprobs, responseSchema);
  }

  /**
   * The schema a JSON {@code response_format} asks for (json_object: any object), or null for
   * text. A schema outside the subset constrained decoding enforces is a 400 naming its field.
   */
  static JsonNode responseFormat(JsonNode format) {
    if (!present(format)) {
      return null;
    }
    if (!format.isObject()) {
      throw new BadRequestException("'response_format' must be an object such as {\"type\": \"json_object\"}", "response_format");
    }
    String type = format.path("type").asText("");
    switch (type) {
      case "text":
        return null;
      case "json_object":
        return ANY_OBJECT;
      case "json_schema":
        break;
      default:
        throw new BadRequestException("'response_format.type' must be 'text', 'json_object' or 'json_schema', got '" + type + "'",
            "response_format");
    }
    JsonNode js = format.get("json_schema");
    if (js == null || !js.isObject()) {
      throw new BadRequestException("'response_format.json_schema' must be an object with 'name' and 'schema'", "response_format");
    }
    if (!js.path("name").isTextual() || js.get("name").asText().isBlank()) {
      throw new BadRequestException("'response_format.json_schema.name' must be a non-empty string", "response_format");
    }
    if (present(js.get("strict")) && !js.get("strict").isBoolean()) {
      throw new BadRequestException("'response_format.json_schema.strict' must be a boolean", "response_format");
    }
    JsonNode schema = js.get("schema");
    if (!present(schema)) {
      return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(); // OpenAI: any JSON value
    }
    try {
      JsonConstraint.check(schema);
    } catch (UnsupportedSchemaException e) {
      throw new BadRequestException(e.under("response_format.json_schema.schema").getMessage(), "response_format");
    }
    return schema;
  }

  private static boolean present(JsonNode n) {
    return n != null && !n.isNull();
  }

  private static Message message(JsonNode m, String where) {
    if (!m.isObject()) {
      throw new BadRequestException(where + " must be an object", "messages");
    }
    String roleName = m.path("role").asText("");
    Role role = switch (roleName) {
      case "system", "developer" -> Role.SYSTEM;
      case "user" -> Role.USER;
      case "assistant" -> Role.ASSISTANT;
      case "tool" -> Role.TOOL;
      default -> throw new BadRequestException(where + ".role must be one of system, developer, user, assistant, tool; got '"
          + roleName + "'", "messages");
    };
    String content = content(m.get("content"), where);
    List<ToolCall> calls = new ArrayList<>();
    JsonNode tc = m.get("tool_calls");
    if (present(tc)) {
      if (role != Role.ASSISTANT || !tc.isArray()) {
        throw new BadRequestException(where + ".tool_calls must be an array on an assistant message", "messages");
      }
      for (int i = 0; i < tc.size(); i++) {
        JsonNode fn = tc.get(i).path("function");
        if (!fn.path("name").isTextual()) {
          throw new BadRequestException(where + ".tool_calls[" + i + "].function.name must be a string", "messages");
        }
        JsonNode args = fn.get("arguments");
        calls.add(new ToolCall(tc.get(i).path("id").asText(""), fn.get("name").asText(),
            args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString()));
      }
    }
    String toolCallId = null;
    if (role == Role.TOOL) {
      if (!m.path("tool_call_id").isTextual()) {
        throw new BadRequestException(where + " is a tool message without 'tool_call_id'", "messages");
      }
      toolCallId = m.get("tool_call_id").asText();
    }
    String name = m.path("name").isTextual() ? m.get("name").asText() : null;
    String reasoning = m.path("reasoning_content").isTextual() ? m.get("reasoning_content").asText() : null;
    return new Message(role, content, calls, toolCallId, name, reasoning);
  }

  private static String content(JsonNode c, String where) {
    if (!present(c)) {
      return "";
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : c) {
        if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw new BadRequestException(where + ".content: only text parts are supported, got "
              + part.path("type").asText("a part without type"), "messages");
        }
        sb.append(part.get("text").asText());
      }
      return sb.toString();
    }
    throw new BadRequestException(where + ".content must be a string or an array of text parts", "messages");
  }

  private static List<ToolSpec> tools(JsonNode tools) {
    if (!present(tools)) {
      return List.of();
    }
    if (!tools.isArray()) {
      throw new BadRequestException("'tools' must be an array", "tools");
    }
    List<ToolSpec> out = new ArrayList<>();
    for (int i = 0; i < tools.size(); i++) {
      JsonNode t = tools.get(i);
      if (!"function".equals(t.path("type").asText())) {
        throw new BadRequestException("tools[" + i + "].type must be 'function'", "tools");
      }
      JsonNode fn = t.path("function");
      if (!fn.path("name").isTextual() || fn.get("name").asText().isBlank()) {
        throw new BadRequestException("tools[" + i + "].function.name must be a non-empty string", "tools");
      }
      JsonNode params = fn.get("parameters");
      if (present(params) && !params.isObject()) {
        throw new BadRequestException("tools[" + i + "].function.parameters must be a JSON schema object", "tools");
      }
      out.add(new ToolSpec(fn.get("name").asText(), fn.path("description").asText(""), params));
    }
    return out;
  }

  private static ToolChoice toolChoice(JsonNode c, List<ToolSpec> tools) {
    if (!present(c)) {
      return ToolChoice.AUTO;
    }
    ToolChoice choice;
    if (c.isTextual()) {
      choice = switch (c.asText().toLowerCase(Locale.ROOT)) {
        case "auto" -> ToolChoice.AUTO;
        case "none" -> ToolChoice.NONE;
        case "required" -> ToolChoice.REQUIRED;
        default -> throw new BadRequestException("'tool_choice' must be 'auto', 'none', 'required' or "
            + "{\"type\": \"function\", \"function\": {\"name\": ...}}, got '" + c.asText() + "'", "tool_choice");
      };
    } else if (c.isObject() && c.path("function").path("name").isTextual()) {
      String name = c.get("function").get("name").asText();
      if (tools.stream().noneMatch(t -> t.name().equals(name))) {
        throw new BadRequestException("'tool_choice' names function '" + name + "', which is not in 'tools'", "tool_choice");
      }
      choice = ToolChoice.function(name);
    } else {
      throw new BadRequestException("'tool_choice' must be a string or {\"type\": \"function\", \"function\": {\"name\": ...}}",
          "tool_choice");
    }
    if ((choice.mode() == ToolChoice.Mode.REQUIRED) && tools.isEmpty()) {
      throw new BadRequestException("'tool_choice' is 'required' but no 'tools' were given", "tool_choice");
    }
    if (choice.mode() == ToolChoice.Mode.REQUIRED || choice.mode() == ToolChoice.Mode.FUNCTION) {
      // the forced call's arguments are constrained by the tool's schema: it must be in the subset
      for (int i = 0; i < tools.size(); i++) {
        if (choice.mode() == ToolChoice.Mode.FUNCTION && !tools.get(i).name().equals(choice.function())) {
          continue;
        }
        try {
          JsonConstraint.check(tools.get(i).parameters());
        } catch (UnsupportedSchemaException e) {
          throw new BadRequestException(e.under("tools[" + i + "].function.parameters").getMessage(), "tools");
        }
      }
    }
    return choice;
  }
}
