package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.rollout.completion.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The sampling fields that {@code /v1/chat/completions} and {@code /v1/completions} share, OpenAI's
 * and vLLM's spellings, each checked and turned into {@link SamplingParams} or a
 * {@link BadRequestException} naming the field. A field this server cannot honour is refused,
 * never ignored.
 */
final class SamplingFields {

  private SamplingFields() {}

  /** Fields both endpoints read; {@code maxN} bounds {@code n}. */
  record Common(SamplingParams sampling, int n, boolean stream, boolean includeUsage, boolean skipSpecialTokens,
      boolean includeStopStr, boolean returnTokensAsTokenIds, String model) {}

  static Common parse(JsonNode body, SamplingParams defaults, int maxN, int vocab) {
    SamplingParams.Builder s = defaults.toBuilder();
    JsonNode t = body.get("temperature");
    if (present(t)) {
      double v = number(t, "temperature");
      if (v < 0 || v > 2) {
        throw new BadRequestException("'temperature' must be between 0 and 2, got " + v, "temperature");
      }
      s.temperature(v);
    }
    JsonNode p = body.get("top_p");
    if (present(p)) {
      double v = number(p, "top_p");
      if (!(v > 0 && v <= 1)) {
        throw new BadRequestException("'top_p' must be in (0, 1], got " + v, "top_p");
      }
      s.topP(v);
    }
    JsonNode k = body.get("top_k");
    if (present(k)) {
      long v = integer(k, "top_k");
      if (v < -1) {
        throw new BadRequestException("'top_k' must be -1 or 0 (off) or a positive integer, got " + v, "top_k");
      }
      s.topK(v <= 0 ? 0 : (int) Math.min(v, Integer.MAX_VALUE));
    }
    for (String guided : List.of("guided_json", "guided_regex", "guided_choice", "guided_grammar", "structured_outputs")) {
      if (present(body.get(guided))) {
        throw new BadRequestException("'" + guided + "' is not supported by this server; use 'response_format' "
            + "(json_object or json_schema) for constrained decoding", guided);
      }
    }
    JsonNode mp = body.get("min_p");
    if (present(mp) && number(mp, "min_p") != 0) {
      throw new BadRequestException("'min_p' is not supported by this server; leave it out or set it to 0", "min_p");
    }
    String maxField = present(body.get("max_completion_tokens")) ? "max_completion_tokens" : "max_tokens";
    JsonNode max = body.get(maxField);
    if (present(max)) {
      if (!max.isIntegralNumber() || !max.canConvertToLong() || max.asLong() <= 0) {
        throw new BadRequestException("'" + maxField + "' must be a positive integer, got " + max, maxField);
      }
      s.maxNewTokens((int) Math.min(max.asLong(), Integer.MAX_VALUE));
    }
    JsonNode min = body.get("min_tokens");
    if (present(min)) {
      long v = integer(min, "min_tokens");
      if (v < 0) {
        throw new BadRequestException("'min_tokens' must be >= 0, got " + v, "min_tokens");
      }
      s.minTokens((int) Math.min(v, Integer.MAX_VALUE));
    }
    JsonNode stop = body.get("stop");
    if (present(stop)) {
      List<String> stops = new ArrayList<>();
      if (stop.isTextual()) {
        stops.add(stop.asText());
      } else if (stop.isArray()) {
        for (JsonNode x : stop) {
          if (!x.isTextual() || x.asText().isEmpty()) {
            throw new BadRequestException("'stop' must be a non-empty string or an array of them", "stop");
          }
          stops.add(x.asText());
        }
      } else {
        throw new BadRequestException("'stop' must be a non-empty string or an array of them", "stop");
      }
      if (stops.stream().anyMatch(String::isEmpty)) {
        throw new BadRequestException("'stop' must not be empty", "stop");
      }
      s.stopStrings(stops);
    }
    JsonNode stopIds = body.get("stop_token_ids");
    if (present(stopIds)) {
      s.stopTokenIds(ids(stopIds, "stop_token_ids", vocab));
    }
    JsonNode ignoreEos = body.get("ignore_eos");
    if (present(ignoreEos)) {
      s.ignoreEos(bool(ignoreEos, "ignore_eos"));
    }
    JsonNode seed = body.get("seed");
    if (present(seed)) {
      s.seed(integer(seed, "seed"));
    }
    for (String f : new String[] {"presence_penalty", "frequency_penalty"}) {
      JsonNode v = body.get(f);
      if (present(v)) {
        double d = number(v, f);
        if (d < -2 || d > 2) {
          throw new BadRequestException("'" + f + "' must be between -2 and 2, got " + d, f);
        }
        if (f.equals("presence_penalty")) {
          s.presencePenalty(d);
        } else {
          s.frequencyPenalty(d);
        }
      }
    }
    JsonNode rep = body.get("repetition_penalty");
    if (present(rep)) {
      double d = number(rep, "repetition_penalty");
      if (!(d > 0) || Double.isInfinite(d)) {
        throw new BadRequestException("'repetition_penalty' must be > 0, got " + d, "repetition_penalty");
      }
      s.repetitionPenalty(d);
    }
    JsonNode bias = body.get("logit_bias");
    if (present(bias)) {
      if (!bias.isObject()) {
        throw new BadRequestException("'logit_bias' must be an object of token id -> bias", "logit_bias");
      }
      Map<Integer, Float> m = new HashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = bias.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        int id;
        try {
          id = Integer.parseInt(e.getKey());
        } catch (NumberFormatException x) {
          throw new BadRequestException("'logit_bias' key '" + e.getKey() + "' is not a token id", "logit_bias");
        }
        if (id < 0 || id >= vocab) {
          throw new BadRequestException("'logit_bias' token id " + id + " is outside the vocabulary [0, " + vocab + ")", "logit_bias");
        }
        double v = number(e.getValue(), "logit_bias");
        if (v < -100 || v > 100) {
          throw new BadRequestException("'logit_bias' values must be between -100 and 100, got " + v, "logit_bias");
        }
        m.put(id, (float) v);
      }
      s.logitBias(m);
    }
    JsonNode nNode = body.get("n");
    int n = 1;
    if (present(nNode)) {
      if (!nNode.isIntegralNumber() || nNode.asLong() < 1 || nNode.asLong() > maxN) {
        throw new BadRequestException("'n' must be an integer from 1 to " + maxN + ", got " + nNode, "n");
      }
      n = nNode.asInt();
    }
    JsonNode bestOf = body.get("best_of");
    if (present(bestOf) && !(bestOf.isIntegralNumber() && bestOf.asLong() == n)) {
      throw new BadRequestException("'best_of' is not supported by this server; leave it out or set it to n", "best_of");
    }
    boolean stream = present(body.get("stream")) && bool(body.get("stream"), "stream");
    JsonNode so = body.get("stream_options");
    boolean includeUsage = false;
    if (present(so)) {
      if (!so.isObject()) {
        throw new BadRequestException("'stream_options' must be an object", "stream_options");
      }
      if (!stream) {
        throw new BadRequestException("'stream_options' is only allowed when 'stream' is true", "stream_options");
      }
      includeUsage = present(so.get("include_usage")) && bool(so.get("include_usage"), "stream_options.include_usage");
    }
    boolean skip = !present(body.get("skip_special_tokens")) || bool(body.get("skip_special_tokens"), "skip_special_tokens");
    boolean includeStop = present(body.get("include_stop_str_in_output"))
        && bool(body.get("include_stop_str_in_output"), "include_stop_str_in_output");
    boolean asIds = present(body.get("return_tokens_as_token_ids"))
        && bool(body.get("return_tokens_as_token_ids"), "return_tokens_as_token_ids");
    JsonNode model = body.get("model");
    if (present(model) && !model.isTextual()) {
      throw new BadRequestException("'model' must be a string", "model");
    }
    try {
      return new Common(s.build(), n, stream, includeUsage, skip, includeStop, asIds, present(model) ? model.asText() : null);
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(e.getMessage(), null);
    }
  }

  static boolean present(JsonNode n) {
    return n != null && !n.isNull();
  }

  static double number(JsonNode n, String field) {
    if (!n.isNumber()) {
      throw new BadRequestException("'" + field + "' must be a number, got " + n, field);
    }
    return n.asDouble();
  }

  static long integer(JsonNode n, String field) {
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw new BadRequestException("'" + field + "' must be an integer, got " + n, field);
    }
    return n.asLong();
  }

  static boolean bool(JsonNode n, String field) {
    if (!n.isBoolean()) {
      throw new BadRequestException("'" + field + "' must be a boolean, got " + n, field);
    }
    return n.asBoolean();
  }

  /** An array of token ids inside the vocabulary. */
  static List<Integer> ids(JsonNode arr, String field, int vocab) {
    if (!arr.isArray()) {
      throw new BadRequestException("'" + field + "' must be an array of token ids", field);
    }
    List<Integer> out = new ArrayList<>(arr.size());
    for (JsonNode x : arr) {
      if (!x.isIntegralNumber() || x.asLong() < 0 || x.asLong() >= vocab) {
        throw new BadRequestException("'" + field + "' holds " + x + ", not a token id in [0, " + vocab + ")", field);
      }
      out.add(x.asInt());
    }
    return out;
  }
}
