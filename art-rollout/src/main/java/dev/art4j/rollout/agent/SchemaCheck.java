package dev.art4j.rollout.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The basic JSON-schema checks a tool's arguments get before the tool is called: {@code type}
 * (one or a list), {@code required}, {@code enum}, {@code additionalProperties: false}, recursing
 * into {@code properties} and array {@code items}. Anything else in the schema is left to the tool.
 */
final class SchemaCheck {

  private SchemaCheck() {}

  /** Problems found, each naming the argument's path; empty when the value passes. */
  static List<String> problems(JsonNode value, JsonNode schema) {
    List<String> out = new ArrayList<>();
    check(value, schema, "", out);
    return out;
  }

  private static void check(JsonNode value, JsonNode schema, String path, List<String> out) {
    if (schema == null || !schema.isObject()) {
      return;
    }
    String where = path.isEmpty() ? "the arguments" : "'" + path + "'";
    JsonNode type = schema.get("type");
    if (type != null && !typeMatches(value, type)) {
      out.add(where + " must be " + describe(type) + ", got " + CallJson.kind(value)
          + (value.isValueNode() ? " " + CallJson.abbreviate(value.toString(), 60) : ""));
      return;
    }
    JsonNode allowed = schema.get("enum");
    if (allowed != null && allowed.isArray()) {
      boolean found = false;
      for (JsonNode a : allowed) {
        if (a.equals(value) || (a.isNumber() && value.isNumber() && a.decimalValue().compareTo(value.decimalValue()) == 0)) {
          found = true;
          break;
        }
      }
      if (!found) {
        out.add(where + " must be one of " + allowed + ", got " + CallJson.abbreviate(value.toString(), 60));
      }
    }
    if (value.isObject()) {
      JsonNode props = schema.get("properties");
      JsonNode required = schema.get("required");
      if (required != null && required.isArray()) {
        for (JsonNode r : required) {
          if (!value.has(r.asText())) {
            out.add("missing required argument '" + join(path, r.asText()) + "'");
          }
        }
      }
      JsonNode additional = schema.get("additionalProperties");
      Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode propSchema = props == null ? null : props.get(f.getKey());
        if (propSchema != null) {
          check(f.getValue(), propSchema, join(path, f.getKey()), out);
        } else if (additional != null && additional.isBoolean() && !additional.asBoolean()) {
          List<String> names = new ArrayList<>();
          if (props != null) {
            props.fieldNames().forEachRemaining(names::add);
          }
          out.add("unknown argument '" + join(path, f.getKey()) + "' (allowed: " + String.join(", ", names) + ")");
        } else if (additional != null && additional.isObject()) {
          check(f.getValue(), additional, join(path, f.getKey()), out);
        }
      }
    } else if (value.isArray()) {
      JsonNode items = schema.get("items");
      for (int i = 0; i < value.size() && items != null; i++) {
        check(value.get(i), items, path + "[" + i + "]", out);
      }
    }
  }

  private static boolean typeMatches(JsonNode value, JsonNode type) {
    if (type.isArray()) {
      for (JsonNode t : type) {
        if (typeMatches(value, t)) {
          return true;
        }
      }
      return false;
    }
    return switch (type.asText()) {
      case "string" -> value.isTextual();
      case "number" -> value.isNumber();
      case "integer" -> value.isIntegralNumber() || (value.isNumber() && value.asDouble() == Math.rint(value.asDouble()));
      case "boolean" -> value.isBoolean();
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "null" -> value.isNull();
      default -> true;
    };
  }

  private static String describe(JsonNode type) {
    if (type.isArray()) {
      List<String> names = new ArrayList<>();
      type.forEach(t -> names.add(article(t.asText())));
      return String.join(" or ", names);
    }
    return article(type.asText());
  }

  private static String article(String type) {
    return switch (type) {
      case "integer", "object", "array" -> "an " + type;
      case "null" -> "null";
      default -> "a " + type;
    };
  }

  private static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }
}
