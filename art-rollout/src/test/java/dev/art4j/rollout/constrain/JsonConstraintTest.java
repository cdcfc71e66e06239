package dev.art4j.rollout.constrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.TokenConstraint;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The JSON automaton against tables of texts, and the trie walk against testing every token. */
class JsonConstraintTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static Tokenizer tiny;
  static TokenVocabulary vocab;

  @BeforeAll
  static void load() throws Exception {
    tiny = Tokenizer.load(TestKit.tinyChat());
    vocab = TokenVocabulary.of(tiny);
  }

  @AfterAll
  static void close() {
    tiny.close();
  }

  static JsonConstraint schema(String json) throws Exception {
    return JsonConstraint.schema(vocab, JSON.readTree(json));
  }

  static void table(JsonConstraint c, List<String> valid, List<String> invalid) {
    for (String v : valid) {
      assertTrue(c.accepts(v), "should accept " + v);
    }
    for (String v : invalid) {
      assertFalse(c.accepts(v), "should refuse " + v);
    }
  }

  @Test
  void anyObject() {
    JsonConstraint c = JsonConstraint.anyObject(vocab);
    table(c, List.of("{}", "{\"a\":1}", "{\"a\": [1, 2.5e-3, -0, true, false, null, \"x\", {\"b\": {}}]}",
            "{ \"k\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\" }", "{\"é\": \"中文 🚀\"}", "{\"a\":{},\"a\":1}", "{\n  \"a\": 1\n}"),
        List.of("", "[]", "1", "\"x\"", " {}", "{} ", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":01}",
            "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\u0001\"}", "{\"a\\u0062\":1}", "{\"a\":1234567890123456789}", "{\"a\":1e1234}", "{a:1}", "{\"a\":1" + " ".repeat(17) + "}"));
    assertTrue(c.acceptsPrefix("{\"a\": [1, {\"b\""));
    assertTrue(c.accepts("{\"a\": [-123456789012345678, 0.1234567890123456e-123]}"));
    assertFalse(c.acceptsPrefix("{\"a\": ]"));
  }

  @Test
  void invalidUtf8InsideStrings() {
    JsonConstraint c = JsonConstraint.anyObject(vocab);
    byte[][] bad = {{(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF5, (byte) 0x80},
        {(byte) 0x80}, {(byte) 0xE2, (byte) 0x41}};
    for (byte[] b : bad) {
      TokenConstraint.Matcher m = c.start();
      for (byte x : "{\"a\":\"".getBytes()) {
        m = m.advance(tiny.encode(new String(new byte[] {x}))[0]);
      }
      TokenConstraint.Matcher end = m;
      for (byte x : b) {
        end = end == null ? null : end.advance(idOfByte(x));
      }
      assertNull(end, "refuses bytes " + java.util.Arrays.toString(b));
    }
  }

  /** The tiny-chat vocabulary: one id per byte. */
  static int idOfByte(byte b) {
    for (int id = 0; id < vocab.size(); id++) {
      byte[] t = vocab.bytes(id);
      if (t != null && t.length == 1 && t[0] == b) {
        return id;
      }
    }
    throw new AssertionError();
  }

  @Test
  void objectsWithPropertiesRequiredAndAdditional() throws Exception {
    JsonConstraint c = schema("""
        {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 3},
          "age": {"type": "integer"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "maxItems": 2},
          "ok": {"type": ["boolean", "null"]}},
         "required": ["name", "age"], "additionalProperties": false}""");
    table(c, List.of("{\"name\": \"Bob\", \"age\": 30}", "{\"age\":-1,\"name\":\"é中🚀\"}",
            "{\"name\": \"x\", \"age\": 0, \"tags\": [\"a\"], \"ok\": null}", "{\"name\": \"x\", \"age\": 0, \"tags\": [\"b\", \"a\"], \"ok\": true}"),
        List.of("{}", "{\"name\": \"Bob\"}", "{\"name\": \"\", \"age\": 1}", "{\"name\": \"Bobby\", \"age\": 1}",
            "{\"name\": \"x\", \"age\": 1.5}", "{\"name\": \"x\", \"age\": 1e3}", "{\"name\": \"x\", \"age\": 1, \"extra\": 1}",
            "{\"name\": \"x\", \"age\": 1, \"name\": \"y\"}", "{\"name\": \"x\", \"age\": 1, \"tags\": []}",
            "{\"name\": \"x\", \"age\": 1, \"tags\": [\"a\", \"b\", \"a\"]}", "{\"name\": \"x\", \"age\": 1, \"tags\": [\"c\"]}",
            "{\"name\": \"x\", \"age\": 1, \"ok\": 0}", "{\"name\": \"x\", \"age\": \"1\"}"));
    // all listed keys seen: no comma can follow; a required key missing: no closing brace
    assertFalse(c.acceptsPrefix("{\"name\": \"x\", \"age\": 1, \"tags\": [\"a\"], \"ok\": null,"));
    assertFalse(c.acceptsPrefix("{\"name\": \"x\"}"));
    JsonConstraint open = schema("""
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}""");
    table(open, List.of("{\"a\": 1, \"b\": [\"anything\"]}", "{\"b\": null, \"c\": {}, \"a\": 2}"),
        List.of("{\"a\": 1}", "{\"a\": \"1\", \"b\": 1}", "{\"b\": 1, \"a\\\"\": 1}"));
    JsonConstraint typed = schema("""
        {"type": "object", "additionalProperties": {"type": "number"}}""");
    table(typed, List.of("{\"x\": 1.5, \"y\": -2E+3}"), List.of("{\"x\": \"1\"}"));
  }

  @Test
  void anyOfConstRefsAndTopLevelValues() throws Exception {
    JsonConstraint c = schema("""
        {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
           "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"], "additionalProperties": false}},
         "anyOf": [{"$ref": "#/$defs/node"}, {"const": {"k": [1, "x"]}}, {"type": "integer"}, {"type": "number"}]}""");
    table(c, List.of("{\"v\": 1, \"kids\": [{\"v\": 2, \"kids\": []}, {\"v\": 3}]}", "{\"k\":[1,\"x\"]}", "12", "-0.5e2"),
        List.of("{\"v\": 1, \"kids\": [{}]}", "{\"k\": [1, \"x\"]}", "{\"k\":[1,\"y\"]}", "\"x\"", "12 "));
    JsonConstraint strings = schema("{\"enum\": [\"ab\", \"abc\", null, 3]}");
    table(strings, List.of("\"ab\"", "\"abc\"", "null", "3"), List.of("\"a\"", "\"abcd\"", "30", "4"));
  }

  @Test
  void framedAlternativesAsAForcedToolCall() throws Exception {
    JsonNode add = JSON.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}},\"required\":[\"a\"],"
        + "\"additionalProperties\":false}");
    JsonConstraint c = JsonConstraint.oneOf(vocab, List.of(
        new JsonConstraint.Framed("add\", \"arguments\": ", add, "}\n</tool_call>"),
        new JsonConstraint.Framed("addAll\", \"arguments\": ", null, "}\n</tool_call>")));
    table(c, List.of("add\", \"arguments\": {\"a\": 1}}\n</tool_call>", "addAll\", \"arguments\": {\"x\": []}}\n</tool_call>"),
        List.of("add\", \"arguments\": {}}\n</tool_call>", "add\", \"arguments\": {\"a\": 1}}", "sub\", \"arguments\": {}}\n</tool_call>",
            "add\", \"arguments\": {\"a\": 1}}\n</tool_call>\n"));
  }

  @Test
  void schemasOutsideTheSubsetNameTheField() throws Exception {
    String[][] cases = {
        {"{\"type\": \"object\", \"properties\": {\"age\": {\"type\": \"integer\", \"minimum\": 0}}}", "properties.age.minimum"},
        {"{\"type\": \"string\", \"pattern\": \"^a\"}", "pattern"},
        {"{\"type\": \"date\"}", "type"},
        {"{\"enum\": [1, 2], \"type\": \"string\"}", "enum"},
        {"{\"type\": \"array\", \"items\": [{\"type\": \"string\"}]}", "items"},
        {"{\"anyOf\": [{\"type\": \"string\"}, {\"format\": \"email\"}]}", "anyOf[1].format"},
        {"{\"$ref\": \"https://example.com/s.json\"}", "$ref"},
        {"{\"type\": \"object\", \"required\": [\"x\"], \"additionalProperties\": false}", "required[0]"},
        {"{\"minItems\": 3, \"maxItems\": 2}", "minItems"},
    };
    for (String[] c : cases) {
      UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class, () -> JsonConstraint.check(JSON.readTree(c[0])), c[0]);
      assertEquals(c[1], e.path(), c[0]);
      assertTrue(e.getMessage().startsWith(c[1] + ": "), e.getMessage());
      assertEquals("response_format.json_schema.schema." + c[1], e.under("response_format.json_schema.schema").path());
    }
  }

  /** The trie walk allows exactly the ids that, fed byte by byte, the automaton accepts. */
  @Test
  void maskEqualsTestingEveryTokenOnTheQwen3Vocabulary() throws Exception {
    try (Tokenizer qwen = Tokenizer.load(TestKit.qwen3())) {
      TokenVocabulary v = TokenVocabulary.of(qwen);
      assertTrue(v.nodes() > 100_000, "nodes " + v.nodes());
      JsonConstraint c = JsonConstraint.schema(v, JSON.readTree("""
          {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "number"},
           "kind": {"enum": ["alpha", "beta"]}}, "required": ["name"], "additionalProperties": false}"""));
      String[] prefixes = {"", "{", "{\"", "{\"na", "{\"name\": \"Zür", "{\"name\": \"x\", \"n\": 12", "{\"kind\": \"al",
          "{\"name\": \"x\"}", "{\"free key", "{\"a\": \"x\\u00", "{\"a\": [\"中", "{\"a\": {\"b\": \"\\"};
      JsonConstraint any = JsonConstraint.anyObject(v);
      for (String prefix : prefixes) {
        if (c.acceptsPrefix(prefix)) {
          checkMask(qwen, v, c, prefix);
        }
        checkMask(qwen, v, any, prefix);
      }
      assertNull(c.start().advance(151645), "a special token is never JSON text");
    }
  }

  static void checkMask(Tokenizer qwen, TokenVocabulary v, JsonConstraint c, String prefix) {
    for (int round = 0; round < 2; round++) { // the second time from the constraint's cache
        TokenConstraint.Matcher m = c.start();
        for (int id : qwen.encode(prefix)) {
          m = m.advance(id);
          assertNotNull(m, prefix);
        }
        boolean[] allowed = new boolean[v.size() + 10];
        m.allow(allowed);
        int count = 0;
        for (int id = 0; id < allowed.length; id++) {
          assertEquals(m.advance(id) != null, allowed[id], "prefix " + prefix + ", id " + id + " " + qwen.idToToken(id));
          count += allowed[id] ? 1 : 0;
        }
        assertEquals(prefix.endsWith("}"), m.complete(), prefix);
        assertEquals(prefix.endsWith("}"), count == 0, prefix + ": " + count + " ids allowed");
    }
  }
}
