package dev.art4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/** What a fake RULER judge (MockWebServer speaking the OpenAI chat API) answers. */
public final class JudgeReplies {

  private static final ObjectMapper JSON = new ObjectMapper();

  private JudgeReplies() {}

  /** The user message of a judge request: the trajectories to score. */
  public static String userMessage(RecordedRequest request) throws IOException {
    return JSON.readTree(request.getBody().utf8()).get("messages").get(1).get("content").asText();
  }

  /** How many trajectories a judge prompt's user message holds. */
  public static int trajectoriesIn(String userMessage) {
    String needle = "<trajectory id=\"";
    int n = 0;
    for (int i = userMessage.indexOf(needle); i >= 0; i = userMessage.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  /** Distinct scores 0.1, 0.2, ... for trajectory ids 1..n, as the judge's JSON content. */
  public static String scores(int n) {
    ObjectNode root = JSON.createObjectNode();
    var arr = root.putArray("scores");
    for (int i = 1; i <= n; i++) {
      arr.addObject().put("trajectory_id", String.valueOf(i)).put("explanation", "fine " + i).put("score", i / 10.0);
    }
    return root.toString();
  }

  /** An OpenAI chat completion whose message content is {@code content}. */
  public static MockResponse completion(String content) {
    return completion(content, 0, 0);
  }

  /** As {@link #completion(String)}, with a {@code usage} block when a count is positive. */
  public static MockResponse completion(String content, int promptTokens, int completionTokens) {
    ObjectNode body = JSON.createObjectNode();
    body.put("id", "chatcmpl-1").put("object", "chat.completion").put("created", 1).put("model", "judge");
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", content);
    if (promptTokens > 0 || completionTokens > 0) {
      body.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
          .put("total_tokens", promptTokens + completionTokens);
    }
    return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json").body(body.toString()).build();
  }
}
