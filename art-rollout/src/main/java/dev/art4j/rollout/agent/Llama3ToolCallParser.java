package dev.art4j.rollout.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama 3.1 / 3.2 JSON tool calls: the whole reply is {@code {"name": "f", "parameters": {...}}},
 * optionally after {@code <|python_tag|>}; several calls are separated by {@code ;} or newlines,
 * or written as one JSON array. A reply that is not a JSON object with a {@code "name"} is a plain
 * answer. {@code "arguments"} is accepted in place of {@code "parameters"}.
 */
final class Llama3ToolCallParser implements ToolCallParser {

  private static final String PYTHON_TAG = "<|python_tag|>";
  private static final String FORMAT = "{\"name\": \"<tool name>\", \"parameters\": {...}}";

  @Override
  public ParsedReply parse(String text, String idPrefix) {
    String body = text.strip();
    boolean tagged = body.startsWith(PYTHON_TAG);
    if (tagged) {
      body = body.substring(PYTHON_TAG.length()).strip();
    }
    if (body.startsWith("[") && body.endsWith("]")) {
      body = body.substring(1, body.length() - 1).strip();
    }
    if (!body.startsWith("{") || (!tagged && !body.contains("\"name\""))) {
      if (tagged) {
        return new ParsedReply("", null, List.of(CallJson.malformed(body, idPrefix + 0,
            "only JSON tool calls are supported after <|python_tag|>", FORMAT)));
      }
      return new ParsedReply(text.strip(), null, List.of());
    }
    List<ParsedCall> calls = new ArrayList<>();
    int pos = 0;
    while (pos < body.length()) {
      while (pos < body.length() && (Character.isWhitespace(body.charAt(pos)) || body.charAt(pos) == ';'
          || body.charAt(pos) == ',')) {
        pos++;
      }
      if (pos >= body.length()) {
        break;
      }
      int end = endOfValue(body, pos);
      calls.add(CallJson.read(body.substring(pos, end), idPrefix + calls.size(), FORMAT));
      pos = end;
    }
    return new ParsedReply("", null, calls);
  }

  /** End (exclusive) of the JSON object starting at {@code start}, or the end of text if unbalanced. */
  static int endOfValue(String s, int start) {
    if (s.charAt(start) != '{') {
      int semi = s.indexOf(';', start);
      return semi < 0 ? s.length() : semi;
    }
    int depth = 0;
    boolean inString = false;
    for (int i = start; i < s.length(); i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0) {
          return i + 1;
        }
      }
    }
    return s.length();
  }

  @Override
  public String forcedCallPrefix(String toolName) {
    return toolName == null ? "{\"name\": \"" : "{\"name\": \"" + toolName + "\", \"parameters\": ";
  }
}
