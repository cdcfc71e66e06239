package dev.art4j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArgumentValidatorTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static final String SCHEMA = """
      {"type": "object",
       "properties": {
         "count": {"type": "integer"},
         "unit": {"type": "string", "enum": ["m", "km"]},
         "flags": {"type": "array", "items": {"type": "boolean"}},
         "range": {"type": "object", "properties": {"lo": {"type": "number"}, "hi": {"type": "number"}},
                   "required": ["lo"], "additionalProperties": false},
         "value": {"anyOf": [{"type": "string"}, {"type": "number"}]},
         "note": {"type": ["string", "null"]}},
       "required": ["count"]}""";

  static List<String> check(String args) throws Exception {
    JsonNode schema = JSON.readTree(SCHEMA);
    return ArgumentValidator.validate(schema, JSON.readTree(args));
  }

  @Test
  void acceptsArgumentsThatFit() throws Exception {
    assertEquals(List.of(), check("{\"count\": 3, \"unit\": \"km\", \"flags\": [true, false], \"range\": {\"lo\": 1.5},"
        + " \"value\": 7, \"note\": null, \"extra\": 1}"));
    assertEquals(List.of(), check("{\"count\": 3.0, \"value\": \"seven\"}"));
  }

  @Test
  void namesEveryFieldAtFault() throws Exception {
    assertEquals(List.of("missing required field `count`"), check("{}"));
    assertEquals(List.of("field `count` must be an integer, got number 2.5"), check("{\"count\": 2.5}"));
    assertEquals(List.of("field `unit` must be one of [\"m\",\"km\"], got \"miles\""), check("{\"count\": 1, \"unit\": \"miles\"}"));
    assertEquals(List.of("field `flags[1]` must be a boolean, got string \"yes\""), check("{\"count\": 1, \"flags\": [true, \"yes\"]}"));
    assertEquals(List.of("missing required field `range.lo`", "unknown field `range.mid` (expected `lo`, `hi`)"),
        check("{\"count\": 1, \"range\": {\"mid\": 2}}"));
    assertEquals(List.of("field `value` matches none of the allowed forms, got true"), check("{\"count\": 1, \"value\": true}"));
    assertEquals(List.of("field `note` must be a string or null, got number 5"), check("{\"count\": 1, \"note\": 5}"));
    assertEquals(List.of("missing required field `count`"), check("{\"count\": null}"));
  }

  @Test
  void closestNames() {
    List<String> tools = List.of("add", "subtract", "multiply", "division", "modulo", "power", "sqrt");
    assertEquals(List.of("division"), ClosestNames.closest("devide", tools, 3));
    assertEquals(List.of("multiply"), ClosestNames.closest("multiplication", tools, 3));
    assertEquals(List.of("modulo"), ClosestNames.closest("mod", tools, 3));
    assertEquals(List.of("add"), ClosestNames.closest("Add", tools, 3));
    assertEquals(List.of(), ClosestNames.closest("weather_forecast", tools, 3));
    assertEquals(3, ClosestNames.distance("kitten", "sitting"));
  }

  /** What a Pydantic-based MCP server emits for {@code def f(p: Point, shift: float | None = None, mode: ...)}. */
  static final String PYDANTIC = """
      {"$defs": {"Point": {"properties": {"x": {"title": "X", "type": "number"}, "y": {"title": "Y", "type": "number"}},
                           "required": ["x", "y"], "title": "Point", "type": "object"},
                 "Tree": {"type": "object", "properties": {"value": {"type": "integer"},
                          "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}}},
       "properties": {"p": {"$ref": "#/$defs/Point"},
                      "shift": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null},
                      "mode": {"oneOf": [{"const": "sum"}, {"type": "integer", "minimum": 0}]},
                      "both": {"allOf": [{"$ref": "#/$defs/Point"}, {"properties": {"z": {"type": "number"}}}]},
                      "tree": {"$ref": "#/$defs/Tree"},
                      "loop": {"$ref": "#/properties/loop"}},
       "required": ["p", "shift"], "title": "fArguments", "type": "object"}""";

  static List<String> pydantic(String args) throws Exception {
    return ArgumentValidator.validate(JSON.readTree(PYDANTIC), JSON.readTree(args));
  }

  @Test
  void followsLocalReferencesAndCombinators() throws Exception {
    assertEquals(List.of(), pydantic("{\"p\": {\"x\": 2, \"y\": 3}, \"shift\": null, \"mode\": \"sum\"}"));
    assertEquals(List.of(), pydantic("{\"p\": {\"x\": 2, \"y\": 3}, \"shift\": 1.5, \"mode\": 4,"
        + " \"both\": {\"x\": 1, \"y\": 2, \"z\": 3}, \"tree\": {\"value\": 1, \"children\": [{\"value\": 2}]}, \"loop\": 1}"));
    assertEquals(List.of("field `p` must be an object, got number 3"), pydantic("{\"p\": 3, \"shift\": null}"));
    assertEquals(List.of("missing required field `p.y`", "field `p.x` must be a number, got string \"two\""),
        pydantic("{\"p\": {\"x\": \"two\"}, \"shift\": null}"));
    assertEquals(List.of("field `mode` matches none of the allowed forms, got \"max\""),
        pydantic("{\"p\": {\"x\": 2, \"y\": 3}, \"shift\": null, \"mode\": \"max\"}"));
    assertEquals(List.of("missing required field `both.y`", "field `both.z` must be a number, got string \"z\""),
        pydantic("{\"p\": {\"x\": 2, \"y\": 3}, \"shift\": null, \"both\": {\"x\": 1, \"z\": \"z\"}}"));
    assertEquals(List.of("field `tree.children[0].children[0].value` must be an integer, got string \"deep\""),
        pydantic("{\"p\": {\"x\": 2, \"y\": 3}, \"shift\": null,"
            + " \"tree\": {\"children\": [{\"children\": [{\"value\": \"deep\"}]}]}}"));
    assertEquals(List.of("missing required field `shift`"), pydantic("{\"p\": {\"x\": 2, \"y\": 3}}"));
  }
}
