package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.rollout.agent.ToolChoice;
import dev.art4j.rollout.engine.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed {@code POST /v1/chat/completions} body. Every rule broken is a
 * {@link BadRequestException} naming the field, as OpenAI's API answers.
 */
record ChatRequest(List<Message> messages, List<ToolSpec> tools, ToolChoice toolChoice, SamplingParams sampling,
    boolean logprobs, int n) {

  static ChatRequest parse(JsonNode body, SamplingParams defaults, int maxN) {
    if (body == null || !body.isObject()) {
      throw new BadRequestException("the request body must be a JSON object", null);
    }
    if (body.path("stream").asBoolean(false)) {
      throw new BadRequestException("stream=true is not supported by this server; send stream=false", "stream");
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

    SamplingParams.Builder s = defaults.toBuilder();
    JsonNode t = body.get("temperature");
    if (present(t)) {
      double v = number(t, "temperature");
      if (v < 0 || v > 2) {
        throw new BadRequestException("'temperature' must be between 0 and 2, got " + v, "temperature");
      }
      s.temperature(v);
    }
    JsonNode p = body.get("top_p");
    if (present(p)) {
      double v = number(p, "top_p");
      if (!(v > 0 && v <= 1)) {
        throw new BadRequestException("'top_p' must be in (0, 1], got " + v, "top_p");
      }
      s.topP(v);
    }
    String maxField = present(body.get("max_completion_tokens")) ? "max_completion_tokens" : "max_tokens";
    JsonNode max = body.get(maxField);
    if (present(max)) {
      if (!max.canConvertToInt() || !max.isIntegralNumber() || max.asInt() <= 0) {
        throw new BadRequestException("'" + maxField + "' must be a positive integer, got " + max, maxField);
      }
      s.maxNewTokens(max.asInt());
    }
    JsonNode stop = body.get("stop");
    if (present(stop)) {
      List<String> stops = new ArrayList<>();
      if (stop.isTextual()) {
        stops.add(stop.asText());
      } else if (stop.isArray() && stop.size() <= 4) {
        for (JsonNode x : stop) {
          if (!x.isTextual()) {
            throw new BadRequestException("'stop' must be a string or an array of up to 4 strings", "stop");
          }
          stops.add(x.asText());
        }
      } else {
        throw new BadRequestException("'stop' must be a string or an array of up to 4 strings", "stop");
      }
      s.stopStrings(stops);
    }
    JsonNode seed = body.get("seed");
    if (present(seed)) {
      if (!seed.isIntegralNumber()) {
        throw new BadRequestException("'seed' must be an integer, got " + seed, "seed");
      }
      s.seed(seed.asLong());
    }
    JsonNode lp = body.get("logprobs");
    boolean logprobs = false;
    if (present(lp)) {
      if (!lp.isBoolean()) {
        throw new BadRequestException("'logprobs' must be a boolean, got " + lp, "logprobs");
      }
      logprobs = lp.asBoolean();
    }
    JsonNode top = body.get("top_logprobs");
    if (present(top) && top.asInt(-1) != 0) {
      throw new BadRequestException("'top_logprobs' is not supported (only the sampled token's log-prob is recorded); "
          + "leave it out or set it to 0", "top_logprobs");
    }
    JsonNode nNode = body.get("n");
    int n = 1;
    if (present(nNode)) {
      if (!nNode.isIntegralNumber() || nNode.asInt() < 1 || nNode.asInt() > maxN) {
        throw new BadRequestException("'n' must be an integer from 1 to " + maxN + ", got " + nNode, "n");
      }
      n = nNode.asInt();
    }
    return new ChatRequest(messages, tools, choice, s.build(), logprobs, n);
  }

  private static boolean present(JsonNode n) {
    return n != null && !n.isNull();
  }

  private static double number(JsonNode n, String field) {
    if (!n.isNumber()) {
      throw new BadRequestException("'" + field + "' must be a number, got " + n, field);
    }
    return n.asDouble();
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
    return choice;
  }
}
