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
 * concurrent streams, aborted streams, token-id completions with vLLM's extras, models and errors.
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
      assertEquals("response_format", out.get("jsonMode").get("param").asText());
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
