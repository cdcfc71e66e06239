package dev.art4j.rollout.constrain;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema compiled for the byte automaton ({@link JsonMachine}): the subset documented on
 * {@link JsonConstraint}. Fields are set once while compiling (a {@code $ref} may point back to a
 * schema still being compiled) and never after.
 */
final class Schema {

  static final int OBJECT = 1, ARRAY = 2, STRING = 4, NUMBER = 8, INTEGER = 16, BOOLEAN = 32, NULL = 64, ANY = 127;
  static final int MAX_PROPERTIES = 64;

  private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
      "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
  private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties", "items",
      "enum", "const", "anyOf", "oneOf", "minItems", "maxItems", "minLength", "maxLength", "$ref");

  /** Allowed JSON types (bits above); NUMBER admits integers too. */
  int types = ANY;
  /** Property names as they must be written between the quotes (JSON-escaped UTF-8). */
  byte[][] names = new byte[0][];
  Schema[] properties = new Schema[0];
  long required;
  /** Schema of properties not listed, or null when they are forbidden. */
  Schema additional;
  Schema items;
  int minItems;
  int maxItems = Integer.MAX_VALUE;
  int minLength;
  int maxLength = Integer.MAX_VALUE;
  /** The allowed values' compact JSON texts (enum / const), or null. */
  byte[][] literals;
  /** Alternatives (anyOf / oneOf), or null. */
  Schema[] anyOf;
  /** The schema a {@code $ref} points to, or null. */
  Schema ref;

  /** Any JSON value. */
  static Schema any() {
    Schema s = new Schema();
    s.additional = s;
    s.items = s;
    return s;
  }

  /** Any JSON object (its values anything). */
  static Schema anyObject() {
    Schema s = new Schema();
    s.types = OBJECT;
    s.additional = any();
    s.items = s.additional;
    return s;
  }

  /** Follows {@code $ref}s. */
  Schema resolve() {
    Schema s = this;
    for (int i = 0; s.ref != null && i < 64; i++) {
      s = s.ref;
    }
    return s;
  }

  long allProperties() {
    return properties.length == 64 ? -1L : (1L << properties.length) - 1;
  }

  static Schema compile(JsonNode root) {
    return new Compiler(root).compile(root, "");
  }

  /** Compiles one schema document, resolving {@code #/$defs/..} and {@code #/definitions/..} references. */
  private static final class Compiler {
    private final JsonNode root;
    private final Map<String, Schema> refs = new HashMap<>();

    Compiler(JsonNode root) {
      this.root = root;
    }

    Schema compile(JsonNode node, String path) {
      Schema s = new Schema();
      fill(s, node, path);
      return s;
    }

    private static String at(String path, String key) {
      return path.isEmpty() ? key : path + "." + key;
    }

    private void fill(Schema s, JsonNode node, String path) {
      if (node == null || node.isBoolean()) {
        if (node != null && !node.asBoolean()) {
          throw new UnsupportedSchemaException(path, "the schema false allows no value");
        }
        Schema any = any();
        s.additional = any;
        s.items = any;
        return;
      }
      if (!node.isObject()) {
        throw new UnsupportedSchemaException(path, "a schema must be an object or a boolean, got " + node.getNodeType());
      }
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (!KEYWORDS.contains(key) && !ANNOTATIONS.contains(key)) {
          throw new UnsupportedSchemaException(at(path, key), "keyword '" + key + "' is not supported by constrained "
              + "decoding (supported: " + String.join(", ", new java.util.TreeSet<>(KEYWORDS)) + ")");
        }
      }
      if (node.has("$ref")) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
          String key = it.next();
          if (!key.equals("$ref") && !ANNOTATIONS.contains(key)) {
            throw new UnsupportedSchemaException(at(path, key), "'" + key + "' beside '$ref' is not supported");
          }
        }
        s.ref = reference(node.get("$ref"), at(path, "$ref"));
        return;
      }
      if (node.has("anyOf") || node.has("oneOf")) {
        String key = node.has("anyOf") ? "anyOf" : "oneOf";
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
          String other = it.next();
          if (!other.equals(key) && !ANNOTATIONS.contains(other)) {
            throw new UnsupportedSchemaException(at(path, other), "'" + other + "' beside '" + key + "' is not supported; "
                + "put it inside each alternative");
          }
        }
        JsonNode alts = node.get(key);
        if (!alts.isArray() || alts.isEmpty()) {
          throw new UnsupportedSchemaException(at(path, key), "must be a non-empty array of schemas");
        }
        s.anyOf = new Schema[alts.size()];
        for (int i = 0; i < alts.size(); i++) {
          s.anyOf[i] = compile(alts.get(i), at(path, key) + "[" + i + "]");
        }
        return;
      }
      if (node.has("type")) {
        s.types = types(node.get("type"), at(path, "type"));
      }
      s.additional = any();
      s.items = s.additional;
      if (node.has("enum") || node.has("const")) {
        List<JsonNode> values = new ArrayList<>();
        if (node.has("const")) {
          values.add(node.get("const"));
        }
        if (node.has("enum")) {
          if (!node.get("enum").isArray()) {
            throw new UnsupportedSchemaException(at(path, "enum"), "must be an array");
          }
          node.get("enum").forEach(values::add);
        }
        List<byte[]> literals = new ArrayList<>();
        for (JsonNode v : values) {
          if ((typeOf(v) & s.types) != 0 && (!node.has("const") || node.get("const").equals(v))) {
            literals.add(v.toString().getBytes(StandardCharsets.UTF_8));
          }
        }
        if (literals.isEmpty()) {
          throw new UnsupportedSchemaException(at(path, node.has("enum") ? "enum" : "const"), "no value is allowed (the "
              + "values do not match 'type'" + (node.has("const") && node.has("enum") ? " or 'const' is not in 'enum'" : "") + ")");
        }
        s.literals = literals.toArray(new byte[0][]);
      }
      JsonNode props = node.get("properties");
      Map<String, JsonNode> declared = new LinkedHashMap<>();
      if (props != null) {
        if (!props.isObject()) {
          throw new UnsupportedSchemaException(at(path, "properties"), "must be an object");
        }
        props.fields().forEachRemaining(e -> declared.put(e.getKey(), e.getValue()));
      }
      JsonNode additional = node.get("additionalProperties");
      if (additional != null) {
        if (additional.isBoolean()) {
          s.additional = additional.asBoolean() ? any() : null;
        } else {
          s.additional = compile(additional, at(path, "additionalProperties"));
        }
      }
      List<String> required = new ArrayList<>();
      JsonNode req = node.get("required");
      if (req != null) {
        if (!req.isArray()) {
          throw new UnsupportedSchemaException(at(path, "required"), "must be an array of property names");
        }
        for (int i = 0; i < req.size(); i++) {
          if (!req.get(i).isTextual()) {
            throw new UnsupportedSchemaException(at(path, "required") + "[" + i + "]", "must be a string");
          }
          String name = req.get(i).asText();
          if (!declared.containsKey(name)) {
            if (s.additional == null) {
              throw new UnsupportedSchemaException(at(path, "required") + "[" + i + "]", "'" + name + "' is required but "
                  + "not in 'properties' and 'additionalProperties' is false: no object is allowed");
            }
            declared.put(name, null); // a listed name with the additional properties' schema
          }
          required.add(name);
        }
      }
      if (declared.size() > MAX_PROPERTIES) {
        throw new UnsupportedSchemaException(at(path, "properties"), "more than " + MAX_PROPERTIES + " properties");
      }
      s.names = new byte[declared.size()][];
      s.properties = new Schema[declared.size()];
      int i = 0;
      for (Map.Entry<String, JsonNode> e : declared.entrySet()) {
        s.names[i] = quote(e.getKey()).getBytes(StandardCharsets.UTF_8);
        s.properties[i] = e.getValue() == null ? s.additional
            : compile(e.getValue(), at(at(path, "properties"), e.getKey()));
        if (required.contains(e.getKey())) {
          s.required |= 1L << i;
        }
        i++;
      }
      if (node.has("items")) {
        if (node.get("items").isArray()) {
          throw new UnsupportedSchemaException(at(path, "items"), "tuple 'items' (an array of schemas) is not supported");
        }
        s.items = compile(node.get("items"), at(path, "items"));
      }
      s.minItems = count(node, "minItems", 0, path);
      s.maxItems = count(node, "maxItems", Integer.MAX_VALUE, path);
      if (s.minItems > s.maxItems) {
        throw new UnsupportedSchemaException(at(path, "minItems"), "minItems > maxItems: no array is allowed");
      }
      s.minLength = count(node, "minLength", 0, path);
      s.maxLength = count(node, "maxLength", Integer.MAX_VALUE, path);
      if (s.minLength > s.maxLength) {
        throw new UnsupportedSchemaException(at(path, "minLength"), "minLength > maxLength: no string is allowed");
      }
    }

    private Schema reference(JsonNode ref, String path) {
      String r = ref.asText("");
      String name;
      JsonNode target;
      if (r.startsWith("#/$defs/")) {
        name = r.substring("#/$defs/".length());
        target = root.path("$defs").get(name);
      } else if (r.startsWith("#/definitions/")) {
        name = r.substring("#/definitions/".length());
        target = root.path("definitions").get(name);
      } else {
        throw new UnsupportedSchemaException(path, "only local references '#/$defs/<name>' or '#/definitions/<name>' are "
            + "supported, got '" + r + "'");
      }
      if (target == null) {
        throw new UnsupportedSchemaException(path, "'" + r + "' is not defined");
      }
      Schema s = refs.get(r);
      if (s == null) {
        s = new Schema();
        refs.put(r, s); // before compiling: a recursive reference finds it
        fill(s, target, (r.startsWith("#/$defs/") ? "$defs." : "definitions.") + name);
      }
      return s;
    }

    private static int count(JsonNode node, String key, int absent, String path) {
      JsonNode v = node.get(key);
      if (v == null) {
        return absent;
      }
      if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
        throw new UnsupportedSchemaException(at(path, key), "must be a non-negative integer, got " + v);
      }
      return v.asInt();
    }

    private static int types(JsonNode type, String path) {
      int t = 0;
      if (type.isTextual()) {
        return type(type.asText(), path);
      }
      if (!type.isArray() || type.isEmpty()) {
        throw new UnsupportedSchemaException(path, "must be a type name or a non-empty array of them");
      }
      for (JsonNode n : type) {
        t |= type(n.asText(), path);
      }
      return t;
    }

    private static int type(String name, String path) {
      return switch (name) {
        case "object" -> OBJECT;
        case "array" -> ARRAY;
        case "string" -> STRING;
        case "number" -> NUMBER;
        case "integer" -> INTEGER;
        case "boolean" -> BOOLEAN;
        case "null" -> NULL;
        default -> throw new UnsupportedSchemaException(path, "unknown type '" + name + "'");
      };
    }

    private static int typeOf(JsonNode v) {
      if (v.isObject()) {
        return OBJECT;
      }
      if (v.isArray()) {
        return ARRAY;
      }
      if (v.isTextual()) {
        return STRING;
      }
      if (v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
        return NUMBER | INTEGER;
      }
      if (v.isNumber()) {
        return NUMBER;
      }
      return v.isBoolean() ? BOOLEAN : NULL;
    }

    /** The name as JSON writes it between quotes. */
    private static String quote(String name) {
      String q = com.fasterxml.jackson.databind.node.TextNode.valueOf(name).toString();
      return q.substring(1, q.length() - 1);
    }
  }
}
