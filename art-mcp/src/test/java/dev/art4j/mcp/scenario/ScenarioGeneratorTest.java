package dev.art4j.mcp.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.usage.TokenPrices;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.mcp.toolset.McpToolset;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Scenario synthesis through langchain4j's OpenAiChatModel, answered by OkHttp's MockWebServer speaking the OpenAI API. */
class ScenarioGeneratorTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static MathServer math;
  static McpToolset tools;
  MockWebServer api;
  OpenAiChatModel model;

  @BeforeAll
  static void startMath() throws Exception {
    math = MathServer.startHttp(0, false);
    tools = McpToolset.builder().streamableHttp("math", math.url()).allow("add", "subtract", "multiply", "division").build();
  }

  @AfterAll
  static void stopMath() {
    tools.close();
    math.close();
  }

  @BeforeEach
  void startApi() throws Exception {
    api = new MockWebServer();
    api.start(InetAddress.getLoopbackAddress(), 0);
    model = OpenAiChatModel.builder().baseUrl(api.url("/v1").toString()).apiKey("test-key").modelName("gpt-test")
        .maxRetries(0).build();
  }

  @AfterEach
  void stopApi() {
    api.close();
  }

  /** An OpenAI chat-completions answer whose message content is {@code content}. */
  void reply(String content) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("id", "chatcmpl-1").put("object", "chat.completion")
        .put("created", 1).put("model", "gpt-test");
    ObjectNode choice = body.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", content);
    body.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 10).put("total_tokens", 20);
    api.enqueue(new MockResponse.Builder().addHeader("Content-Type", "application/json").body(JSON.writeValueAsString(body)).build());
  }

  static String scenarios(Object... taskDifficultyPairs) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("scenarios");
    for (int i = 0; i < taskDifficultyPairs.length; i += 2) {
      list.addObject().put("task", (String) taskDifficultyPairs[i]).put("difficulty", (Integer) taskDifficultyPairs[i + 1]);
    }
    return root.toString();
  }

  JsonNode request() throws Exception {
    RecordedRequest r = api.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("/v1/chat/completions", r.getUrl().encodedPath());
    return JSON.readTree(r.getBody().utf8());
  }

  static String lastUserMessage(JsonNode request) {
    JsonNode messages = request.get("messages");
    return messages.get(messages.size() - 1).get("content").asText();
  }

  @Test
  void countsTheTokensOfEveryReplyIncludingRejectedOnes() throws Exception {
    reply("this is not JSON");
    reply(scenarios("What is 12 plus 30?", 1, "Share 90 between 9 people.", 2));
    ScenarioGenerator generator = ScenarioGenerator.builder(model).prices(new TokenPrices(1.0, 4.0)).build();
    generator.generate(tools.tools(), 2);
    assertEquals(new TokenUsage(2, 20, 20), generator.usage());
    assertEquals((20 * 1.0 + 20 * 4.0) / 1e6, generator.cost(), 1e-15);
  }

  @Test
  void validReply() throws Exception {
    reply(scenarios(
        "I bought 3 notebooks at 4.25 each. What did I pay?", 1,
        "Split a 187.50 bill between 6 friends, then add a 12 tip per person.", 3,
        "My rent went from 950 to 1020. By how much did it rise?", 1,
        "A recipe for 4 needs 350 g of flour; how much for 10, minus the 200 g I have?", 4));
    ScenarioSet set = ScenarioGenerator.builder(model).customInstructions("Tasks are about everyday money.").build()
        .generate(tools.tools(), tools.resources(), 4);

    assertEquals(4, set.size());
    assertEquals(List.of(1, 3, 1, 4), set.scenarios().stream().map(Scenario::difficulty).toList());
    assertEquals("I bought 3 notebooks at 4.25 each. What did I pay?", set.scenarios().get(0).task());
    assertEquals("synthesised", set.scenarios().get(0).metadata().get("source"));

    JsonNode request = request();
    assertEquals("gpt-test", request.get("model").asText());
    assertEquals("json_schema", request.at("/response_format/type").asText());
    assertEquals("integer", request.at("/response_format/json_schema/schema/properties/scenarios/items/properties/difficulty/type").asText());
    String prompt = lastUserMessage(request);
    assertTrue(prompt.contains("\"name\" : \"division\""), prompt);
    assertTrue(prompt.contains("math://constants"), prompt);
    assertTrue(prompt.contains("Write 4 distinct, realistic tasks"), prompt);
    assertTrue(prompt.endsWith("Tasks are about everyday money."), prompt);
    assertEquals(1, api.getRequestCount());
  }

  @Test
  void wrongCountAsksForTheRestAndDropsDuplicates() throws Exception {
    reply(scenarios("What is 12 times 13?", 1, "what is 12 times 13", 1, "Share 90 apples among 7 kids; how many are left?", 2));
    reply(scenarios("A car uses 6.5 l per 100 km. How much fuel for 340 km?", 2, "Extra one", 5));
    ScenarioSet set = ScenarioGenerator.builder(model).build().generate(tools.tools(), 3);

    assertEquals(List.of("What is 12 times 13?", "Share 90 apples among 7 kids; how many are left?",
        "A car uses 6.5 l per 100 km. How much fuel for 340 km?"), set.scenarios().stream().map(Scenario::task).toList());
    request();
    JsonNode second = request();
    assertEquals("Thank you. I still need 1 more scenario, different from all earlier ones and naming no tool "
        + "(1 repeated an earlier task). "
        + "Reply with exactly 1 new scenario in the same JSON format.", lastUserMessage(second));
    // the conversation goes on: the first reply is in the second request
    assertEquals(4, second.get("messages").size());
  }

  @Test
  void invalidJsonThenValidOnRetry() throws Exception {
    reply("Sure! Here are your scenarios: 1. What is 2 + 2?");
    reply("```json\n" + scenarios("What is 17 minus 9?", 1, "Average of 3, 8 and 10, then doubled?", 3) + "\n```");
    ScenarioSet set = ScenarioGenerator.builder(model).build().generate(tools.tools(), 2);

    assertEquals(2, set.size());
    request();
    String feedback = lastUserMessage(request());
    assertTrue(feedback.startsWith("That reply could not be used: the reply is not valid JSON ("), feedback);
    assertTrue(feedback.endsWith("Reply with exactly 2 scenarios as a JSON object {\"scenarios\": [...]} and nothing else."), feedback);
  }

  @Test
  void badShapeIsRejectedAndTheGeneratorGivesUpAfterMaxAttempts() throws Exception {
    reply(scenarios("What is 2 + 2?", 9));
    reply("{\"tasks\": []}");
    ScenarioGenerationException e = assertThrows(ScenarioGenerationException.class,
        () -> ScenarioGenerator.builder(model).maxAttempts(2).build().generate(tools.tools(), 1));
    assertEquals("got 0 of 1 scenarios after 2 attempts: attempt 1: scenario 0 needs \"difficulty\" as a whole number "
        + "from 1 to 5, got 9; attempt 2: the reply has no \"scenarios\" array", e.getMessage());
    assertEquals(2, api.getRequestCount());
  }

  @Test
  void referenceAnswersWhenAskedFor() throws Exception {
    reply("{\"scenarios\": [{\"task\": \"What is 6 times 7?\", \"difficulty\": 1, \"reference_answer\": \"42\"}]}");
    ScenarioSet set = ScenarioGenerator.builder(model).referenceAnswers(true).build().generate(tools.tools(), 1);
    assertEquals("42", set.scenarios().get(0).referenceAnswer());
    JsonNode request = request();
    assertEquals("[\"task\",\"difficulty\",\"reference_answer\"]",
        request.at("/response_format/json_schema/schema/properties/scenarios/items/required").toString());
  }

  @Test
  void tasksThatSpellOutADistinctiveToolNameAreDropped() {
    List<ToolSpec> specs = List.of(new ToolSpec("get-sum", "", null), new ToolSpec("unit_convert", "", null),
        new ToolSpec("getWeather", "", null), new ToolSpec("add", "", null));
    assertTrue(ScenarioGenerator.namesATool("Use get-sum to add 2 and 3", specs));
    assertTrue(ScenarioGenerator.namesATool("Call UNIT_CONVERT on 5 miles", specs));
    assertTrue(ScenarioGenerator.namesATool("What does getweather say for Oslo?", specs));
    assertFalse(ScenarioGenerator.namesATool("Add 2 and 3, then get the sum of squares", specs));
    assertFalse(ScenarioGenerator.namesATool("my-get-summary is broken", specs));
  }

  @Test
  void largeSetsComeInBatchesThatQuoteTheEarlierTasks() throws Exception {
    reply(scenarios("What is 3 + 4?", 1, "What is 10 / 4?", 1));
    reply(scenarios("What is 9 * 9?", 1, "What is 2 ^ 10?", 2));
    reply(scenarios("What is 100 - 58?", 1));
    ScenarioSet set = ScenarioGenerator.builder(model).batchSize(2).build().generate(tools.tools(), 5);

    assertEquals(List.of("What is 3 + 4?", "What is 10 / 4?", "What is 9 * 9?", "What is 2 ^ 10?", "What is 100 - 58?"),
        set.scenarios().stream().map(Scenario::task).toList());
    String first = lastUserMessage(request());
    assertTrue(first.contains("Write 2 distinct") && !first.contains("written already"), first);
    request();
    JsonNode third = request();
    assertEquals(2, third.get("messages").size(), "each batch is a fresh conversation");
    String prompt = lastUserMessage(third);
    assertTrue(prompt.contains("Write 1 distinct"), prompt);
    assertTrue(prompt.contains("These tasks are written already; write different ones:\n- What is 3 + 4?\n- What is 10 / 4?\n"
        + "- What is 9 * 9?\n- What is 2 ^ 10?\n"), prompt);
  }
}
