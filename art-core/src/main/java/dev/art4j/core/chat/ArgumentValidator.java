package dev.art4j.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks a tool's arguments against the subset of JSON Schema that tool input schemas use:
 * {@code type} (a name or a list of names), {@code properties}, {@code required},
 * {@code additionalProperties: false}, {@code enum}, {@code const}, {@code items},
 * {@code anyOf}/{@code oneOf} (valid when one branch is), {@code allOf}, and local references
 * ({@code $ref: "#/$defs/Point"}, {@code #/definitions/...}, {@code #}: what Pydantic-based
 * servers emit), resolved against the schema's root. Other keywords, and references to other
 * documents, are ignored: the server still has the last word.
 * Both MCP toolsets and the agent loop check calls with it, so the model gets the same message
 * wherever a tool lives. Every problem names the field at fault ({@code a}, {@code numbers[2]}, {@code options.mode}).
 */
public final class ArgumentValidator {


  /** The problems found, empty when the arguments fit the schema. */
  public static List<String> validate(JsonNode schema, JsonNode arguments) {
    List<String> problems = new ArrayList<>();
    new ArgumentValidator(schema).check(schema, arguments, "", problems, 0);
    return problems;
  }

  // a chain of references that never reaches a keyword ({"$ref": "#"} at the root) must end
  private static final int MAX_REF_HOPS = 32;

  private final JsonNode root;

  private ArgumentValidator(JsonNode root) {
    this.root = root;
  }

  /** The schema a local {@code $ref} points to ({@code #}, {@code #/$defs/Name}), or null when it cannot be followed. */
  private JsonNode resolve(String ref) {
    if (!ref.startsWith("#")) {
      return null;
    }
    String pointer = ref.substring(1);
    if (pointer.isEmpty()) {
      return root;
    }
    try {
      JsonNode target = root.at(java.net.URLDecoder.decode(pointer, java.nio.charset.StandardCharsets.UTF_8));
      return target.isMissingNode() ? null : target;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private void check(JsonNode schema, JsonNode value, String path, List<String> problems, int hops) {
    if (schema == null || !schema.isObject() || hops > MAX_REF_HOPS) {
      return;
    }
    JsonNode ref = schema.get("$ref");
    if (ref != null && ref.isTextual()) {
      // draft 2019+: keywords beside $ref apply too; check the target, then the rest here
      check(resolve(ref.asText()), value, path, problems, hops + 1);
    }
    JsonNode all = schema.get("allOf");
    if (all != null && all.isArray()) {
      for (JsonNode branch : all) {
        check(branch, value, path, problems, hops + 1);
      }
    }
    for (String combinator : List.of("anyOf", "oneOf")) {
      JsonNode branches = schema.get(combinator);
      if (branches != null && branches.isArray() && !branches.isEmpty()) {
        boolean any = false;
        for (JsonNode branch : branches) {
          if (validateAt(branch, value, path, hops).isEmpty()) {
            any = true;
            break;
          }
        }
        if (!any) {
          problems.add(describe(path) + " matches none of the allowed forms, got " + show(value));
          return;
        }
      }
    }
    JsonNode type = schema.get("type");
    if (type != null && !typeMatches(type, value)) {
      problems.add(describe(path) + " must be " + typeNames(type) + ", got " + kind(value) + " " + show(value));
      return;
    }
    JsonNode constant = schema.get("const");
    if (constant != null && !sameValue(constant, value)) {
      problems.add(describe(path) + " must be " + show(constant) + ", got " + show(value));
    }
    JsonNode enumValues = schema.get("enum");
    if (enumValues != null && enumValues.isArray()) {
      boolean found = false;
      for (JsonNode allowed : enumValues) {
        if (sameValue(allowed, value)) {
          found = true;
          break;
        }
      }
      if (!found) {
        problems.add(describe(path) + " must be one of " + enumValues + ", got " + show(value));
      }
    }
    if (value.isObject()) {
      JsonNode properties = schema.get("properties");
      JsonNode required = schema.get("required");
      if (required != null && required.isArray()) {
        for (JsonNode name : required) {
          if (!value.has(name.asText()) || value.get(name.asText()).isNull() && !allowsNull(properties, name.asText())) {
            problems.add("missing required field `" + join(path, name.asText()) + "`");
          }
        }
      }
      JsonNode additional = schema.get("additionalProperties");
      for (Map.Entry<String, JsonNode> field : value.properties()) {
        JsonNode fieldSchema = properties == null ? null : properties.get(field.getKey());
        if (fieldSchema != null) {
          if (!(field.getValue().isNull() && isRequired(required, field.getKey()))) {
            check(fieldSchema, field.getValue(), join(path, field.getKey()), problems, 0);
          }
        } else if (additional != null && additional.isBoolean() && !additional.asBoolean()) {
          problems.add("unknown field `" + join(path, field.getKey()) + "`"
              + (properties == null || properties.isEmpty() ? "" : " (expected " + fieldList(properties) + ")"));
        } else if (additional != null && additional.isObject()) {
          check(additional, field.getValue(), join(path, field.getKey()), problems, 0);
        }
      }
    } else if (value.isArray()) {
      JsonNode items = schema.get("items");
      if (items != null && items.isObject()) {
        for (int i = 0; i < value.size(); i++) {
          check(items, value.get(i), path + "[" + i + "]", problems, 0);
        }
      }
    }
  }

  private List<String> validateAt(JsonNode schema, JsonNode value, String path, int hops) {
    List<String> problems = new ArrayList<>();
    check(schema, value, path, problems, hops + 1);
    return problems;
  }

  private static boolean sameValue(JsonNode a, JsonNode b) {
    return a.equals(b) || (a.isNumber() && b.isNumber() && a.decimalValue().compareTo(b.decimalValue()) == 0);
  }

  private static boolean isRequired(JsonNode required, String name) {
    if (required != null && required.isArray()) {
      for (JsonNode r : required) {
        if (r.asText().equals(name)) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean allowsNull(JsonNode properties, String name) {
    JsonNode schema = properties == null ? null : properties.get(name);
    return schema != null && schema.isObject() && !schema.isEmpty()
        && validateAt(schema, com.fasterxml.jackson.databind.node.NullNode.getInstance(), name, 0).isEmpty();
  }

  private static boolean typeMatches(JsonNode type, JsonNode value) {
    if (type.isArray()) {
      for (JsonNode t : type) {
        if (typeMatches(t, value)) {
          return true;
        }
      }
      return false;
    }
    return switch (type.asText()) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "boolean" -> value.isBoolean();
      case "null" -> value.isNull();
      case "number" -> value.isNumber();
      case "integer" -> value.isIntegralNumber()
          || value.isNumber() && value.decimalValue().stripTrailingZeros().scale() <= 0;
      default -> true;
    };
  }

  private static String typeNames(JsonNode type) {
    if (type.isArray()) {
      List<String> names = new ArrayList<>();
      type.forEach(t -> names.add(article(t.asText())));
      return String.join(" or ", names);
    }
    return article(type.asText());
  }

  private static String article(String type) {
    return switch (type) {
      case "object", "array", "integer" -> "an " + type;
      case "null" -> "null";
      default -> "a " + type;
    };
  }

  private static String kind(JsonNode value) {
    if (value.isTextual()) {
      return "string";
    }
    if (value.isNumber()) {
      return "number";
    }
    if (value.isBoolean()) {
      return "boolean";
    }
    if (value.isArray()) {
      return "array";
    }
    if (value.isObject()) {
      return "object";
    }
    return "null";
  }

  private static String show(JsonNode value) {
    String text = value.toString();
    return text.length() > 60 ? text.substring(0, 57) + "..." : text;
  }

  private static String describe(String path) {
    return path.isEmpty() ? "the arguments" : "field `" + path + "`";
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String fieldList(JsonNode properties) {
    List<String> names = new ArrayList<>();
    properties.properties().forEach(e -> names.add("`" + e.getKey() + "`"));
    return String.join(", ", names);
  }
}
