package dev.art4j.reward.ruler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.IOException;
import java.time.Duration;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/** OpenAI chat-completions answers for MockWebServer, and a langchain4j judge pointed at it. */
final class JudgeReplies {

  static final ObjectMapper JSON = new ObjectMapper();

  private JudgeReplies() {}

  /** A 200 chat completion whose assistant content is {@code content}. */
  static MockResponse completion(String content) {
    return completion(content, 10, 5);
  }

  /** A 200 chat completion whose {@code usage} reports these token counts. */
  static MockResponse completion(String content, int promptTokens, int completionTokens) {
    ObjectNode body = JSON.createObjectNode();
    body.put("id", "chatcmpl-1").put("object", "chat.completion").put("created", 1).put("model", "judge");
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", content);
    body.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
        .put("total_tokens", promptTokens + completionTokens);
    return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
        .body(body.toString()).build();
  }

  /** A judge answer: {@code scores[i]} for trajectory id {@code i + 1}, listed in reverse order. */
  static String scores(double... scores) {
    ObjectNode root = JSON.createObjectNode();
    var arr = root.putArray("scores");
    for (int i = scores.length - 1; i >= 0; i--) {
      arr.addObject().put("trajectory_id", String.valueOf(i + 1))
          .put("explanation", "reason for " + (i + 1)).put("score", scores[i]);
    }
    return root.toString();
  }

  static MockResponse error(int code) {
    return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json")
        .body("{\"error\":{\"message\":\"server says " + code + "\",\"type\":\"server_error\"}}").build();
  }

  static OpenAiChatModel judge(MockWebServer server, Duration timeout, boolean jsonSchema) {
    OpenAiChatModel.OpenAiChatModelBuilder b = OpenAiChatModel.builder()
        .baseUrl(server.url("/v1").toString())
        .apiKey("test-key")
        .modelName("judge-model")
        .maxRetries(0) // Ruler does the retrying
        .timeout(timeout);
    if (jsonSchema) {
      b.supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true);
    }
    return b.build();
  }

  static JsonNode body(RecordedRequest r) throws IOException {
    return JSON.readTree(r.getBody().utf8());
  }
}
