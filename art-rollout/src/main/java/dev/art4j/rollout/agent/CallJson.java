package dev.art4j.rollout.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.ToolCall;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one call object {@code {"name": ..., "arguments"|"parameters": {...}}}. */
final class CallJson {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern NAME = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]*)\"");

  private CallJson() {}

  /**
   * @param raw    the call's JSON text
   * @param id     the call id to give it
   * @param format how a correct call looks, quoted in problems
   */
  static ParsedCall read(String raw, String id, String format) {
    String text = raw.strip();
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return malformed(text, id, "the tool call is not valid JSON (" + e.getOriginalMessage() + " at line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", format);
    }
    if (node == null || node.isMissingNode()) {
      return malformed(text, id, "the tool call is empty", format);
    }
    if (!node.isObject()) {
      return malformed(text, id, "the tool call must be a JSON object, got " + kind(node), format);
    }
    JsonNode name = node.get("name");
    if (name == null || !name.isTextual() || name.asText().isBlank()) {
      return malformed(text, id, "the tool call has no \"name\" string", format);
    }
    JsonNode args = node.has("arguments") ? node.get("arguments") : node.get("parameters");
    if (args == null || args.isNull()) {
      return ParsedCall.ok(new ToolCall(id, name.asText(), "{}"));
    }
    if (args.isTextual()) {
      // some models write the arguments as a JSON string, as OpenAI's wire format does
      try {
        JsonNode inner = JSON.readTree(args.asText());
        if (inner != null && inner.isObject()) {
          args = inner;
        }
      } catch (JsonProcessingException ignored) {
        // reported below as "not an object"
      }
    }
    if (!args.isObject()) {
      return new ParsedCall(new ToolCall(id, name.asText(), args.toString()),
          "Error: the arguments of tool '" + name.asText() + "' must be a JSON object, got " + kind(args)
              + ". Write the call as " + format + ".");
    }
    return ParsedCall.ok(new ToolCall(id, name.asText(), args.toString()));
  }

  static ParsedCall malformed(String text, String id, String why, String format) {
    Matcher m = NAME.matcher(text);
    String name = m.find() ? m.group(1) : "";
    return new ParsedCall(new ToolCall(id, name, text),
        "Error: " + why + ": " + abbreviate(text, 200) + ". Write the call as " + format + ".");
  }

  static String kind(JsonNode n) {
    if (n.isTextual()) {
      return "a string";
    }
    if (n.isNumber()) {
      return "a number";
    }
    if (n.isBoolean()) {
      return "a boolean";
    }
    if (n.isArray()) {
      return "an array";
    }
    if (n.isNull()) {
      return "null";
    }
    return "an object";
  }

  static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }
}
