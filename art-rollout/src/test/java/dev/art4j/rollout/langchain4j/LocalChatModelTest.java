package dev.art4j.rollout.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Role;
import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.service.AiServices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** langchain4j AiServices driving the local tiny-chat policy through {@link LocalChatModel}. */
class LocalChatModelTest {

  static Policy policy;
  static ChatFormat format;
  static InferenceEngine engine;

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

  /** The tools AiServices offers the model. */
  public static final class Calculator {
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    @Tool("Adds two numbers")
    public double add(double a, double b) {
      calls.add(a + "+" + b);
      return a + b;
    }
  }

  interface Assistant {
    String chat(String question);
  }

  @Test
  void aiServicesCallsAToolAndTheTrajectoryKeepsItsTokens() {
    Calculator calculator = new Calculator();
    ToolSpecification add = ToolSpecifications.toolSpecificationsFrom(calculator).get(0);
    List<String> params = new ArrayList<>(add.parameters().properties().keySet());
    String call = "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"" + params.get(0) + "\": 2, \"" + params.get(1) + "\": 3}}\n</tool_call>";
    // turn 1 scripted (a random model will not call tools), turn 2 sampled by the engine
    TestKit.ScriptedSource source = new TestKit.ScriptedSource(format, policy.model(), null, engine, Arrays.asList(call, null));
    LocalChatModel model = LocalChatModel.builder(source, format)
        .sampling(SamplingParams.builder().maxNewTokens(12).seed(9).build()).build();
    Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(calculator).build();

    String answer = assistant.chat("What is 2+3?");

    assertEquals(List.of("2.0+3.0"), calculator.calls, "the tool ran once with the model's arguments");
    List<Trajectory> trajectories = model.drainTrajectories();
    assertEquals(1, trajectories.size(), "the second request continued the first conversation");
    Trajectory t = trajectories.get(0);
    assertEquals(List.of(Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT), t.messages().stream().map(m -> m.role()).toList());
    assertEquals("add", t.messages().get(1).toolCalls().get(0).name());
    assertEquals("5.0", t.messages().get(2).content());
    assertEquals(answer.strip(), t.messages().get(3).content());

    assertEquals(2, t.turns().size());
    TokenSequence seq = t.tokens();
    int sampled = 0;
    for (int i = 0; i < 2; i++) {
      Turn turn = t.turns().get(i);
      Completion c = source.served.get(i);
      assertArrayEquals(source.prompts.get(i), turn.promptIds());
      assertArrayEquals(c.tokens(), Arrays.copyOfRange(seq.ids(), turn.promptIds().length, turn.promptIds().length + c.tokens().length));
      assertArrayEquals(c.logprobs(), turn.logprobs());
      sampled += c.tokens().length;
    }
    assertEquals(sampled, seq.sampledCount());
    Turn first = t.turns().get(0);
    String between = format.tokenizer().decode(Arrays.copyOfRange(t.turns().get(1).promptIds(),
        first.promptIds().length + first.sampledIds().length, t.turns().get(1).promptIds().length));
    assertEquals("\n<|im_start|>tool\n5.0<|im_end|>\n<|im_start|>assistant\n", between);
    assertTrue(model.trajectories().isEmpty(), "drained");
  }

  /** A JSON response format (with a schema) constrains the reply: it parses and validates, the random weights notwithstanding. */
  @Test
  void aJsonSchemaResponseFormatConstrainsTheReply() throws Exception {
    LocalChatModel model = LocalChatModel.builder(engine, format).build();
    dev.langchain4j.model.chat.request.json.JsonObjectSchema person = dev.langchain4j.model.chat.request.json.JsonObjectSchema.builder()
        .addProperty("name", dev.langchain4j.model.chat.request.json.JsonStringSchema.builder().build())
        .addIntegerProperty("age").addEnumProperty("role", List.of("admin", "user"))
        .required("name", "age", "role").additionalProperties(false).build();
    dev.langchain4j.model.chat.request.ResponseFormat json = dev.langchain4j.model.chat.request.ResponseFormat.builder()
        .type(dev.langchain4j.model.chat.request.ResponseFormatType.JSON)
        .jsonSchema(dev.langchain4j.model.chat.request.json.JsonSchema.builder().name("person").rootElement(person).build()).build();
    com.fasterxml.jackson.databind.ObjectMapper strict = new com.fasterxml.jackson.databind.ObjectMapper()
        .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    for (int i = 0; i < 4; i++) {
      dev.langchain4j.model.chat.response.ChatResponse r = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
          .messages(dev.langchain4j.data.message.UserMessage.from("a person " + i))
          .parameters(dev.langchain4j.model.chat.request.ChatRequestParameters.builder().responseFormat(json).temperature(1.0)
              .maxOutputTokens(2000).build()).build());
      String text = r.aiMessage().text();
      assertEquals(dev.langchain4j.model.output.FinishReason.STOP, r.finishReason(), text);
      com.fasterxml.jackson.databind.JsonNode v = strict.readTree(text);
      assertTrue(v.size() == 3 && v.get("name").isTextual() && v.get("age").isIntegralNumber()
          && List.of("admin", "user").contains(v.get("role").asText()), text);
    }
  }

  enum Job { ADMIN, USER }

  // long, not int: the schema langchain4j sends for either is {"type": "integer"} (no bounds), and
  // the constraint allows up to 18 digits, which a random model writes
  record Person(String name, long age, Job job) {}

  interface PersonExtractor {
    Person extract(String text);
  }

  /**
   * AiServices asks for a record through a JSON-schema response format because the model declares
   * the capability; constrained decoding makes the random weights' reply parse into it every time.
   */
  @Test
  void aiServicesGetsARecordBackThroughTheJsonSchemaCapability() {
    LocalChatModel model = LocalChatModel.builder(engine, format)
        .sampling(SamplingParams.builder().maxNewTokens(2000).temperature(1.0).build()).build();
    assertEquals(java.util.Set.of(dev.langchain4j.model.chat.Capability.RESPONSE_FORMAT_JSON_SCHEMA), model.supportedCapabilities());
    PersonExtractor extractor = AiServices.create(PersonExtractor.class, model);
    for (int i = 0; i < 3; i++) {
      Person p = extractor.extract("Ada is " + (30 + i) + " and an admin.");
      assertTrue(p.job() != null, String.valueOf(p)); // required, an enum: never null
    }
    // the reply was constrained: the last conversation's answer is exactly one JSON object
    List<Trajectory> ts = model.trajectories();
    String reply = ts.get(ts.size() - 1).messages().get(ts.get(ts.size() - 1).messages().size() - 1).content();
    assertTrue(reply.startsWith("{") && reply.endsWith("}"), reply);
  }
}
