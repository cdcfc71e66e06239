package dev.art4j.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns JSON and Java values into the template's Python-like values, and our chat types into the
 * dicts transformers passes to a template (OpenAI's shape, keys absent rather than null so that
 * {@code is defined} tests behave as they do in Python).
 */
final class Convert {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Convert() {}

  static Object fromJson(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) return null;
    if (n.isTextual()) return n.textValue();
    if (n.isBoolean()) return n.booleanValue();
    if (n.isIntegralNumber()) return n.canConvertToLong() ? (Object) n.longValue() : n.bigIntegerValue();
    if (n.isNumber()) return n.doubleValue();
    if (n.isArray()) {
      List<Object> out = new ArrayList<>(n.size());
      for (JsonNode item : n) out.add(fromJson(item));
      return out;
    }
    if (n.isObject()) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        out.put(e.getKey(), fromJson(e.getValue()));
      }
      return out;
    }
    return n.asText();
  }

  /** A Java value (maps, lists, boxed numbers, JsonNode, our chat types) as a template value. */
  static Object fromJava(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) return v;
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
    if (v instanceof Float f) return Double.parseDouble(f.toString());
    if (v instanceof BigInteger b) return b.bitLength() < 64 ? (Object) b.longValue() : b;
    if (v instanceof BigDecimal d) return d.doubleValue();
    if (v instanceof Character c) return c.toString();
    if (v instanceof JsonNode n) return fromJson(n);
    if (v instanceof Message m) return message(m);
    if (v instanceof ToolSpec t) return tool(t);
    if (v instanceof Enum<?> e) return e.name().toLowerCase(java.util.Locale.ROOT);
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(fromJava(k), fromJava(x)));
      return out;
    }
    if (v instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      for (Object x : it) out.add(fromJava(x));
      return out;
    }
    if (v instanceof Object[] arr) {
      List<Object> out = new ArrayList<>(arr.length);
      for (Object x : arr) out.add(fromJava(x));
      return out;
    }
    throw new IllegalArgumentException("cannot pass a " + v.getClass().getName() + " to a chat template");
  }

  static Map<String, Object> message(Message m) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("role", m.role().wireName());
    out.put("content", m.content());
    if (!m.toolCalls().isEmpty()) {
      List<Object> calls = new ArrayList<>(m.toolCalls().size());
      for (ToolCall c : m.toolCalls()) calls.add(toolCall(c));
      out.put("tool_calls", calls);
    }
    if (m.toolCallId() != null) out.put("tool_call_id", m.toolCallId());
    if (m.name() != null) out.put("name", m.name());
    if (m.reasoningContent() != null) out.put("reasoning_content", m.reasoningContent());
    return out;
  }

  /** Arguments are parsed, as transformers expects; text that is not a JSON object stays a string. */
  static Map<String, Object> toolCall(ToolCall c) {
    Object arguments = c.argumentsJson();
    try {
      JsonNode parsed = JSON.readTree(c.argumentsJson());
      if (parsed != null && parsed.isObject()) arguments = fromJson(parsed);
    } catch (java.io.IOException e) {
      // malformed arguments are rendered as the model wrote them
    }
    Map<String, Object> function = new LinkedHashMap<>();
    function.put("name", c.name());
    function.put("arguments", arguments);
    Map<String, Object> out = new LinkedHashMap<>();
    if (!c.id().isEmpty()) out.put("id", c.id());
    out.put("type", "function");
    out.put("function", function);
    return out;
  }

  static Map<String, Object> tool(ToolSpec t) {
    Map<String, Object> function = new LinkedHashMap<>();
    function.put("name", t.name());
    function.put("description", t.description());
    function.put("parameters", fromJson(t.parameters()));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("type", "function");
    out.put("function", function);
    return out;
  }
}
