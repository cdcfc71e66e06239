package dev.art4j.rollout.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import java.util.Map;

/**
 * vLLM's {@code POST /v1/completions} with a token-id prompt, as the trainer needs it: the sampled
 * ids come back as {@code "token_id:N"} strings with their log-probs, so no text is ever
 * tokenised again.
 */
final class CompletionWire {

  static final ObjectMapper JSON = new ObjectMapper();

  private CompletionWire() {}

  static ObjectNode request(String model, int[] prompt, SamplingParams p) {
    ObjectNode b = JSON.createObjectNode();
    if (model != null) {
      b.put("model", model);
    }
    ArrayNode ids = b.putArray("prompt");
    for (int id : prompt) {
      ids.add(id);
    }
    b.put("max_tokens", p.maxNewTokens());
    b.put("temperature", p.temperature());
    b.put("top_p", p.topP());
    // vLLM's "off" is -1; 0 is rejected by older versions
    b.put("top_k", p.topK() == 0 ? -1 : p.topK());
    p.seed().ifPresent(s -> b.put("seed", s));
    if (!p.stopTokenIds().isEmpty()) {
      ArrayNode stop = b.putArray("stop_token_ids");
      p.stopTokenIds().forEach(stop::add);
    }
    if (!p.stopStrings().isEmpty()) {
      ArrayNode stop = b.putArray("stop");
      p.stopStrings().forEach(stop::add);
    }
    if (p.ignoreEos()) {
      b.put("ignore_eos", true);
    }
    if (p.minTokens() > 0) {
      b.put("min_tokens", p.minTokens());
    }
    if (p.presencePenalty() != 0) {
      b.put("presence_penalty", p.presencePenalty());
    }
    if (p.frequencyPenalty() != 0) {
      b.put("frequency_penalty", p.frequencyPenalty());
    }
    if (p.repetitionPenalty() != 1) {
      b.put("repetition_penalty", p.repetitionPenalty());
    }
    if (!p.logitBias().isEmpty()) {
      ObjectNode bias = b.putObject("logit_bias");
      for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) {
        bias.put(Integer.toString(e.getKey()), e.getValue());
      }
    }
    b.put("logprobs", 1);
    b.put("return_tokens_as_token_ids", true);
    b.put("skip_special_tokens", false);
    b.put("n", 1);
    b.put("stream", false);
    return b;
  }

  /**
   * The completion in a 200 answer.
   *
   * @throws IllegalStateException naming {@code server} when the answer is not what the request
   *     asked for (no log-probs, tokens not as ids, unknown finish reason)
   */
  static Completion parse(String server, JsonNode body, int promptLength, float logprobTemperature, double millis) {
    JsonNode choice = body.path("choices").path(0);
    if (choice.isMissingNode()) {
      throw bad(server, "no choices in the answer");
    }
    JsonNode lp = choice.get("logprobs");
    if (lp == null || !lp.isObject()) {
      throw bad(server, "no logprobs in the answer");
    }
    JsonNode tokens = lp.path("tokens");
    JsonNode values = lp.path("token_logprobs");
    if (!tokens.isArray() || !values.isArray() || tokens.size() != values.size()) {
      throw bad(server, "logprobs.tokens and logprobs.token_logprobs must be arrays of one length");
    }
    int n = tokens.size();
    int[] ids = new int[n];
    float[] lps = new float[n];
    for (int i = 0; i < n; i++) {
      String t = tokens.get(i).asText();
      if (!t.startsWith("token_id:")) {
        throw bad(server, "token " + i + " is '" + t + "', not 'token_id:N' (the server ignored return_tokens_as_token_ids)");
      }
      try {
        ids[i] = Integer.parseInt(t.substring("token_id:".length()));
      } catch (NumberFormatException e) {
        throw bad(server, "token " + i + " is '" + t + "', not 'token_id:N'");
      }
      JsonNode v = values.get(i);
      if (!v.isNumber()) {
        throw bad(server, "token_logprobs[" + i + "] is " + v + ", not a number");
      }
      lps[i] = (float) v.asDouble();
    }
    String finish = choice.path("finish_reason").asText("");
    FinishReason reason = switch (finish) {
      case "stop" -> FinishReason.STOP;
      case "length" -> FinishReason.LENGTH;
      default -> throw bad(server, "finish_reason '" + finish + "'");
    };
    int promptTokens = body.path("usage").path("prompt_tokens").asInt(promptLength);
    return new Completion(ids, lps, logprobTemperature, reason, promptTokens, 0, 0, millis);
  }

  /** The message of an OpenAI-shaped error body, or the body itself. */
  static String errorMessage(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      JsonNode m = n.path("error").path("message");
      if (m.isTextual()) {
        return m.asText();
      }
      if (n.path("message").isTextual()) {
        return n.path("message").asText();
      }
      if (n.path("detail").isTextual()) {
        return n.path("detail").asText();
      }
    } catch (Exception e) {
      // not JSON: the text itself
    }
    String s = body.strip();
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static IllegalStateException bad(String server, String what) {
    return new IllegalStateException(server + "/v1/completions: " + what);
  }
}
