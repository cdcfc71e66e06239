package dev.art4j.rollout.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.TestKit;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The official {@code openai} npm SDK (a root devDependency) against the server on 127.0.0.1 with
 * the real engine on the tiny-chat fixture: whole and streamed chat, the SDK's stream helper, 32
 * concurrent streams, aborted streams, token-id completions with vLLM's extras, models and errors,
 * and constrained decoding: json_schema and json_object replies, forced tool calls (required and
 * named, whole and streamed) whose arguments validate.
 * What the SDK saw is checked against the conversations the server recorded.
 */
class OpenAiNodeClientTest {

  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theOpenAiSdkGetsWhatTheServerSampled() throws Exception {
    Path modules = Path.of(System.getProperty("art4j.nodeModules", "../node_modules"));
    if (!Files.exists(modules.resolve("openai/package.json"))) {
      Assumptions.assumeTrue(System.getenv("CI") != null, "npm assets missing: run npm ci");
    }
    Path script = System.getProperty("art4j.nodeScript") != null ? Path.of(System.getProperty("art4j.nodeScript")) : Path.of("src/test/resources/openai/client.mjs").toAbsolutePath();
    try (TestKit.TinyChat tiny = TestKit.TinyChat.load(21);
        OpenAiServer server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).apiKey("sk-node").modelName("tiny-chat")
            .start()) {
      Process p = new ProcessBuilder("node", script.toString(), server.baseUrl().toString(), "tiny-chat")
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the node client finished");
      assertEquals(0, p.exitValue(), "node client output: " + stdout);
      JsonNode out = JSON.readTree(stdout);

      JsonNode whole = out.get("whole");
      assertEquals("chat.completion", whole.get("object").asText());
      assertEquals(exactText(server, tiny, whole.get("id").asText()), whole.get("content").asText());
      for (JsonNode e : whole.get("logprobs")) {
        assertEquals(3, e.get("top").asInt());
      }

      JsonNode stream = out.get("stream");
      assertEquals(1, stream.get("ids").size());
      assertEquals("[\"chat.completion.chunk\"]", stream.get("objects").toString());
      assertEquals("assistant", stream.get("firstRole").asText());
      assertEquals(1, stream.get("finishes").size());
      assertEquals(0, stream.get("lastChoices").asInt(), "the usage chunk has no choices");
      String id = stream.get("ids").get(0).asText();
      Trajectory t = server.completion(id).orElseThrow().get(0);
      assertEquals(t.turns().get(0).sampledIds().length, stream.get("usage").get("completion_tokens").asInt());
      assertEquals(t.turns().get(0).promptIds().length, stream.get("usage").get("prompt_tokens").asInt());
      assertEquals(exactText(server, tiny, id), stream.get("content").asText(), "the deltas add up to the reply");

      assertTrue(out.get("helper").get("finish").isTextual());

      Set<String> ids = new HashSet<>();
      for (JsonNode m : out.get("many")) {
        assertEquals(1, m.get("ids").asInt());
        assertEquals(1, m.get("finish").size(), "every stream completed");
        ids.add(m.get("id").asText());
        assertEquals(exactText(server, tiny, m.get("id").asText()), m.get("content").asText());
      }
      assertEquals(32, ids.size(), "distinct ids");

      for (JsonNode a : out.get("aborted")) {
        assertTrue(!a.get("finished").asBoolean() && a.get("n").asInt() < 100, "the stream was left early: " + a);
      }
      assertTrue(out.get("probeMillis").asLong() < 3_000, "probe after the aborted streams: " + out.get("probeMillis") + " ms");
      for (Trajectory kept : server.trajectories()) {
        assertTrue(!kept.messages().get(0).content().startsWith("abort "), "an aborted stream was recorded");
      }

      JsonNode tok = out.get("tokenIds");
      assertEquals("text_completion", tok.get("object").asText());
      assertEquals(6, tok.get("tokens").size());
      assertEquals(4, tok.get("usage").get("prompt_tokens").asInt());
      for (int i = 0; i < 6; i++) {
        String name = tok.get("tokens").get(i).asText();
        assertTrue(name.matches("token_id:\\d+"), name);
        JsonNode top = tok.get("top").get(i);
        assertTrue(top.size() == 1 || top.size() == 2, top.toString());
        assertEquals(tok.get("tokenLogprobs").get(i).floatValue(), top.get(name).floatValue());
        for (Iterator<Map.Entry<String, JsonNode>> it = top.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          assertTrue(e.getKey().matches("token_id:\\d+"));
          assertTrue(e.getValue().floatValue() >= tok.get("tokenLogprobs").get(i).floatValue(), "the top-1 is at least as likely");
        }
      }
      assertEquals(tok.get("tokens"), out.get("tokenIdsAgain"), "seeded completions repeat");
      int[] sampled = tok.get("tokens").findValuesAsText("").isEmpty() ? ids(tok.get("tokens")) : null;
      assertEquals(tiny.format().tokenizer().decode(sampled, false), tok.get("text").asText());

      JsonNode cs = out.get("completionStream");
      assertEquals(2, cs.get("finishes").size());
      for (JsonNode text : cs.get("texts")) {
        assertTrue(text.asText().startsWith("Once upon"), text.asText());
      }

      assertEquals("[\"tiny-chat\"]", out.get("models").toString());
      assertEquals("tiny-chat", out.get("retrieved").asText());
      assertEquals(404, out.get("unknownModel").get("status").asInt());
      assertEquals("model_not_found", out.get("unknownModel").get("code").asText());
      assertEquals(400, out.get("badField").get("status").asInt());
      assertEquals("temperature", out.get("badField").get("param").asText());

      // constrained decoding, as the SDK sees it: every reply validates (random weights write garbage otherwise)
      for (JsonNode r : out.get("jsonSchema")) {
        assertEquals("stop", r.get("finish").asText(), r.toString());
        assertPerson(r.get("content").asText());
        assertEquals(exactText(server, tiny, r.get("id").asText()), r.get("content").asText());
      }
      JsonNode ss = out.get("jsonSchemaStream");
      assertEquals("[\"stop\"]", ss.get("finish").toString());
      assertPerson(ss.get("content").asText());
      assertEquals(exactText(server, tiny, ss.get("id").asText()), ss.get("content").asText(), "the deltas add up to the reply");
      assertTrue(ss.get("pieces").asInt() > 1, "a JSON reply streams in pieces: " + ss);
      int objects = 0;
      for (JsonNode r : out.get("jsonObject")) {
        if (r.get("finish").asText().equals("stop")) {
          assertTrue(STRICT.readTree(r.get("content").asText()).isObject(), r.toString());
          objects++;
        } else {
          assertEquals("length", r.get("finish").asText());
        }
      }
      assertTrue(objects >= 1, "json_object replies: " + out.get("jsonObject"));
      JsonNode bad = out.get("badSchema");
      assertEquals(400, bad.get("status").asInt());
      assertEquals("response_format", bad.get("param").asText());
      for (JsonNode r : out.get("required")) {
        assertCall(r, null);
      }
      for (JsonNode r : out.get("named")) {
        assertCall(r, "echo");
      }
      JsonNode rs = out.get("requiredStream");
      assertEquals("[\"tool_calls\"]", rs.get("finish").toString());
      assertEquals("", rs.get("content").asText(), "a forced call sends no content");
      assertEquals(1, rs.get("calls").size());
      assertArguments(rs.get("calls").get(0).get("name").asText(), rs.get("calls").get(0).get("arguments").asText());
    }
  }

  /** One JSON value and nothing after it. */
  static final ObjectMapper STRICT = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** Valid under the client's person schema (checked here, not by the automaton). */
  static void assertPerson(String text) throws Exception {
    JsonNode v = STRICT.readTree(text);
    assertTrue(v.isObject() && v.size() == 3, text);
    assertTrue(v.path("name").isTextual() && v.get("name").asText().codePointCount(0, v.get("name").asText().length()) <= 8, text);
    assertTrue(v.path("age").isIntegralNumber(), text);
    assertTrue(Set.of("admin", "user").contains(v.path("role").asText()) && v.get("role").isTextual(), text);
  }

  static void assertCall(JsonNode reply, String name) throws Exception {
    assertEquals("tool_calls", reply.get("finish").asText(), reply.toString());
    assertEquals(1, reply.get("calls").size(), reply.toString());
    JsonNode call = reply.get("calls").get(0);
    assertEquals("function", call.get("type").asText());
    if (name != null) {
      assertEquals(name, call.get("name").asText());
    }
    assertArguments(call.get("name").asText(), call.get("arguments").asText());
  }

  /** Valid under the add or echo tool's parameters. */
  static void assertArguments(String tool, String arguments) throws Exception {
    JsonNode a = STRICT.readTree(arguments);
    assertTrue(a.isObject(), arguments);
    if (tool.equals("add")) {
      assertTrue(a.size() == 2 && a.path("a").isNumber() && a.path("b").isNumber(), arguments);
    } else {
      assertEquals("echo", tool);
      assertTrue(a.size() == 1 && a.path("text").isTextual() && a.get("text").asText().codePointCount(0, a.get("text").asText().length()) <= 5,
          arguments);
    }
  }

  /** The reply of a recorded completion exactly as sampled: its ids without the end of turn, special tokens skipped. */
  static String exactText(OpenAiServer server, TestKit.TinyChat tiny, String completionId) {
    Trajectory t = server.completion(completionId).orElseThrow().get(0);
    int[] s = t.turns().get(t.turns().size() - 1).sampledIds();
    int n = s.length > 0 && s[s.length - 1] == tiny.format().endOfTurnId() ? s.length - 1 : s.length;
    return tiny.format().tokenizer().decode(Arrays.copyOf(s, n), true);
  }

  static int[] ids(JsonNode tokens) {
    int[] out = new int[tokens.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Integer.parseInt(tokens.get(i).asText().substring("token_id:".length()));
    }
    return out;
  }
}
