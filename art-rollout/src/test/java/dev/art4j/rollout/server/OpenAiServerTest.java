package dev.art4j.rollout.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.output.FinishReason;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible server on 127.0.0.1, answered by langchain4j's OpenAI model and the JDK's HTTP client. */
class OpenAiServerTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String KEY = "sk-test-123";
  static Policy policy;
  static ChatFormat format;
  static InferenceEngine engine;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static TestKit.TinyChat tiny;

  @BeforeAll
  static void load() throws Exception {
    tiny = TestKit.TinyChat.load(5);
    policy = tiny.policy();
    format = tiny.format();
    engine = tiny.engine();
  }

  @AfterAll
  static void close() {
    if (tiny != null) {
      tiny.close();
    }
  }

  static OpenAiServer server(TestKit.ScriptedSource source) throws Exception {
    return OpenAiServer.builder(source, format).port(0).apiKey(KEY).modelName("tiny-chat").maxContext(4096).start();
  }

  static TestKit.ScriptedSource scripted(String... script) {
    return new TestKit.ScriptedSource(format, policy.model(), null, engine, Arrays.asList(script));
  }

  static HttpResponse<String> post(OpenAiServer s, String path, String body, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(OpenAiServer s, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).header("Authorization", "Bearer " + KEY).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void langchain4jOpenAiClientGetsToolCallsAndTheRolloutIsFetchable() throws Exception {
    TestKit.ScriptedSource source = scripted(
        "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 4, \"b\": 5}}\n</tool_call>",
        null);
    try (OpenAiServer server = server(source)) {
      assertEquals("127.0.0.1", server.baseUrl().getHost(), "loopback by default");
      OpenAiChatModel client = OpenAiChatModel.builder().baseUrl(server.baseUrl().toString()).apiKey(KEY)
          .modelName("tiny-chat").maxTokens(10).temperature(1.0).maxRetries(0).build();
      List<ToolSpecification> tools = List.of("add", "multiply").stream()
          .map(n -> ToolSpecification.builder().name(n).description(n + " two numbers")
              .parameters(JsonObjectSchema.builder().addNumberProperty("a").addNumberProperty("b").required("a", "b").build())
              .build())
          .toList();
      List<ChatMessage> conversation = new ArrayList<>(List.of(UserMessage.from("What is (2+3)*(4*5)?")));
      ChatResponse first = client.chat(ChatRequest.builder().messages(conversation).toolSpecifications(tools).build());

      assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
      List<ToolExecutionRequest> calls = first.aiMessage().toolExecutionRequests();
      assertEquals(2, calls.size());
      assertEquals("add", calls.get(0).name());
      assertEquals(JSON.readTree("{\"a\":2,\"b\":3}"), JSON.readTree(calls.get(0).arguments()));
      assertEquals("multiply", calls.get(1).name());
      assertTrue(!calls.get(0).id().isEmpty() && !calls.get(0).id().equals(calls.get(1).id()), "distinct call ids");

      conversation.add(first.aiMessage());
      conversation.add(ToolExecutionResultMessage.from(calls.get(0), "5"));
      conversation.add(ToolExecutionResultMessage.from(calls.get(1), "20"));
      ChatResponse second = client.chat(ChatRequest.builder().messages(conversation).toolSpecifications(tools).build());
      assertEquals(source.served.get(1).tokens().length, second.tokenUsage().outputTokenCount());

      // the whole rollout, token-in/token-out across the two HTTP requests
      HttpResponse<String> fetched = get(server, "/trajectories/" + second.id());
      assertEquals(200, fetched.statusCode(), fetched.body());
      Trajectory t = JSON.treeToValue(JSON.readTree(fetched.body()).get("trajectories").get(0), Trajectory.class);
      assertEquals(2, t.turns().size());
      assertEquals(5, t.messages().size());
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(source.prompts.get(i), t.turns().get(i).promptIds());
        assertArrayEquals(source.served.get(i).tokens(), t.turns().get(i).sampledIds());
        assertArrayEquals(source.served.get(i).logprobs(), t.turns().get(i).logprobs());
      }
      assertEquals(source.served.get(0).tokens().length + source.served.get(1).tokens().length, t.tokens().sampledCount());
      assertEquals(1, server.trajectories().size(), "one conversation, continued");
    }
  }

  @Test
  void badRequestsGet400WithTheReason() throws Exception {
    try (OpenAiServer server = server(scripted())) {
      String[][] cases = {
          {"{\"model\":\"tiny-chat\"}", "'messages' must be a non-empty array", "messages"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":3}", "'temperature' must be between 0 and 2", "temperature"},
          {"{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role must be one of", "messages"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\"}}],"
              + "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"divide\"}}}", "names function 'divide', which is not in 'tools'", "tool_choice"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}", "'stream' must be a boolean", "stream"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"xml\"}}", "'response_format.type'", "response_format"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\","
              + "\"schema\":{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"pattern\":\"^a\"}}}}}}}",
              "response_format.json_schema.schema.properties.tags.items.pattern: keyword 'pattern' is not supported", "response_format"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}}",
              "'response_format.json_schema.name' must be a non-empty string", "response_format"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\","
              + "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\",\"minimum\":0}}}}}],\"tool_choice\":\"required\"}",
              "tools[0].function.parameters.properties.a.minimum: keyword 'minimum' is not supported", "tools"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tool_choice\":\"required\"}", "no 'tools' were given", "tool_choice"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"guided_json\":{\"type\":\"object\"}}", "use 'response_format'", "guided_json"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logit_bias\":{\"99999\":5}}", "outside the vocabulary", "logit_bias"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100000}", "maximum context length", "max_tokens"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]} trailing", "not valid JSON", null},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}", "'max_tokens' must be a positive integer", "max_tokens"},
          {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":99}", "'n' must be an integer from 1 to 16", "n"},
          {"{\"messages\": [", "the body is not valid JSON", null},
      };
      for (String[] c : cases) {
        HttpResponse<String> r = post(server, "/chat/completions", c[0], KEY);
        assertEquals(400, r.statusCode(), c[0]);
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertTrue(err.get("message").asText().contains(c[1]), err.toString());
        assertEquals("invalid_request_error", err.get("type").asText());
        assertEquals(c[2], err.get("param").isNull() ? null : err.get("param").asText());
      }
      HttpResponse<String> noKey = post(server, "/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", null);
      assertEquals(401, noKey.statusCode());
      assertEquals(401, post(server, "/chat/completions", "{}", "wrong").statusCode());
      HttpResponse<String> models = get(server, "/models");
      assertEquals("tiny-chat", JSON.readTree(models.body()).get("data").get(0).get("id").asText());
      assertEquals(404, get(server, "/trajectories/chatcmpl-nope").statusCode());
    }
  }

  @Test
  void nChoicesLogprobsStopAndForcedToolChoice() throws Exception {
    try (OpenAiServer server = server(scripted(null, null, null, null))) {
      String body = "{\"model\":\"tiny-chat\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
          + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Say hi\"}]}],"
          + "\"n\":3,\"max_tokens\":6,\"logprobs\":true,\"seed\":4,\"top_p\":0.9}";
      JsonNode r = JSON.readTree(post(server, "/chat/completions", body, KEY).body());
      assertEquals(3, r.get("choices").size(), r.toString());
      JsonNode fetched = JSON.readTree(get(server, "/trajectories/" + r.get("id").asText()).body()).get("trajectories");
      assertEquals(3, fetched.size());
      int completionTokens = 0;
      for (int i = 0; i < 3; i++) {
        JsonNode choice = r.get("choices").get(i);
        Trajectory t = JSON.treeToValue(fetched.get(i), Trajectory.class);
        float[] lp = t.turns().get(0).logprobs();
        JsonNode content = choice.get("logprobs").get("content");
        assertEquals(lp.length, content.size());
        for (int j = 0; j < lp.length; j++) {
          assertEquals(lp[j], content.get(j).get("logprob").floatValue());
        }
        assertTrue(lp.length <= 6);
        completionTokens += lp.length;
        assertEquals("Say hi", t.messages().get(1).content());
      }
      assertEquals(completionTokens, r.get("usage").get("completion_tokens").asInt());

      // a named tool_choice prefills the call and constrains the rest: a call of that tool with
      // arguments valid under its schema, whatever the random weights prefer
      String forced = "{\"messages\":[{\"role\":\"user\",\"content\":\"2+3?\"}],\"max_tokens\":300,"
          + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":{\"type\":\"object\","
          + "\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"],\"additionalProperties\":false}}},"
          + "{\"type\":\"function\",\"function\":{\"name\":\"sub\"}}],"
          + "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"add\"}}}";
      JsonNode f = JSON.readTree(post(server, "/chat/completions", forced, KEY).body());
      JsonNode choice = f.get("choices").get(0);
      assertEquals("tool_calls", choice.get("finish_reason").asText(), f.toString());
      assertEquals("add", choice.get("message").get("tool_calls").get(0).get("function").get("name").asText());
      assertEquals("function", choice.get("message").get("tool_calls").get(0).get("type").asText());
      JsonNode args = JSON.readTree(choice.get("message").get("tool_calls").get(0).get("function").get("arguments").asText());
      assertTrue(args.size() == 2 && args.get("a").isIntegralNumber() && args.get("b").isIntegralNumber(), args.toString());
      // cut by max_tokens inside the arguments: "length", as vLLM
      JsonNode cut = JSON.readTree(post(server, "/chat/completions", forced.replace("\"max_tokens\":300", "\"max_tokens\":3"), KEY).body());
      assertEquals("length", cut.get("choices").get(0).get("finish_reason").asText(), cut.toString());
      Trajectory t = server.completion(f.get("id").asText()).orElseThrow().get(0);
      String prompt = format.tokenizer().decode(t.turns().get(0).promptIds());
      assertTrue(prompt.endsWith("<|im_start|>assistant\n<tool_call>\n{\"name\": \"add\", \"arguments\": "), prompt);
    }
  }

  /** json_schema replies (whole, n = 3, and streamed) and a streamed required tool call, over HTTP on the real engine. */
  @Test
  void constrainedRepliesOverHttp() throws Exception {
    String schema = "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},\"n\":{\"type\":\"integer\"},"
        + "\"tag\":{\"type\":\"string\",\"maxLength\":4}},\"required\":[\"ok\",\"n\",\"tag\"],\"additionalProperties\":false}";
    String format = "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"strict\":true,\"schema\":" + schema + "}}";
    try (OpenAiServer server = OpenAiServer.builder(engine, OpenAiServerTest.format).port(0).modelName("tiny-chat").start()) {
      JsonNode whole = JSON.readTree(post(server, "/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"json\"}],"
          + "\"max_tokens\":300,\"n\":3,\"seed\":4," + format + "}", null).body());
      assertEquals(3, whole.get("choices").size(), whole.toString());
      for (JsonNode c : whole.get("choices")) {
        assertEquals("stop", c.get("finish_reason").asText(), c.toString());
        assertValid(c.get("message").get("content").asText());
      }
      List<JsonNode> chunks = events(post(server, "/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"json\"}],"
          + "\"max_tokens\":300,\"stream\":true,\"seed\":8," + format + "}", null).body());
      StringBuilder text = new StringBuilder();
      chunks.forEach(c -> text.append(c.get("choices").get(0).get("delta").path("content").asText("")));
      assertValid(text.toString());
      assertEquals("stop", chunks.get(chunks.size() - 1).get("choices").get(0).get("finish_reason").asText());

      // /v1/completions takes response_format too (as vLLM); with ignore_eos it needs a stop id to end
      JsonNode completion = JSON.readTree(post(server, "/completions", "{\"prompt\":\"json:\",\"max_tokens\":300,\"seed\":2,"
          + format + "}", null).body());
      assertEquals("stop", completion.get("choices").get(0).get("finish_reason").asText(), completion.toString());
      assertValid(completion.get("choices").get(0).get("text").asText());
      HttpResponse<String> endless = post(server, "/completions", "{\"prompt\":\"json:\",\"ignore_eos\":true," + format + "}", null);
      assertEquals(400, endless.statusCode(), endless.body());
      assertTrue(endless.body().contains("stop_token_ids"), endless.body());

      String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"flag\",\"parameters\":" + schema + "}},"
          + "{\"type\":\"function\",\"function\":{\"name\":\"flags\",\"parameters\":{\"type\":\"object\",\"properties\":{\"all\":"
          + "{\"type\":\"array\",\"items\":{\"enum\":[1,2]},\"maxItems\":2}},\"required\":[\"all\"],\"additionalProperties\":false}}}]";
      for (int seed = 0; seed < 4; seed++) {
        chunks = events(post(server, "/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"call\"}],"
            + "\"max_tokens\":300,\"stream\":true,\"seed\":" + seed + ",\"tool_choice\":\"required\"," + tools + "}", null).body());
        StringBuilder name = new StringBuilder();
        StringBuilder args = new StringBuilder();
        for (JsonNode c : chunks) {
          JsonNode d = c.get("choices").get(0).get("delta");
          assertEquals("", d.path("content").asText(""), "a forced call streams no content");
          for (JsonNode tc : d.path("tool_calls")) {
            name.append(tc.path("function").path("name").asText(""));
            args.append(tc.path("function").path("arguments").asText(""));
          }
        }
        assertEquals("tool_calls", chunks.get(chunks.size() - 1).get("choices").get(0).get("finish_reason").asText());
        if (name.toString().equals("flag")) {
          assertValid(args.toString());
        } else {
          assertEquals("flags", name.toString());
          JsonNode a = JSON.readTree(args.toString());
          assertTrue(a.size() == 1 && a.get("all").isArray() && a.get("all").size() <= 2, args.toString());
        }
      }
    }
  }

  static void assertValid(String text) throws Exception {
    JsonNode v = new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
    assertTrue(v.isObject() && v.size() == 3 && v.get("ok").isBoolean() && v.get("n").isIntegralNumber()
        && v.get("tag").isTextual() && v.get("tag").asText().codePointCount(0, v.get("tag").asText().length()) <= 4, text);
  }

  /** The JSON chunks of an SSE body, without {@code [DONE]} and comments. */
  static List<JsonNode> events(String body) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.startsWith("data: ") && !line.equals("data: [DONE]")) {
        out.add(JSON.readTree(line.substring(6)));
      }
    }
    return out;
  }

  @Test
  void concurrentClientsAreServedTogether() throws Exception {
    try (OpenAiServer server = OpenAiServer.builder(engine, format).port(0).modelName("tiny-chat").start()) {
      List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"question " + i + "\"}],\"max_tokens\":8}";
        pending.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (var f : pending) {
        HttpResponse<String> r = f.get();
        assertEquals(200, r.statusCode(), r.body());
      }
      List<Trajectory> kept = server.trajectories();
      assertEquals(6, kept.size());
      assertEquals(6, kept.stream().map(t -> t.messages().get(0).content()).distinct().count());
      assertEquals(6, server.drainTrajectories().size());
      assertTrue(server.trajectories().isEmpty());
    }
  }
}
