package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.TokenVocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/completions} (text or token-id prompts, as vLLM takes them), {@code /tokenize}
 * and {@code /detokenize}. Raw completions are not chat rollouts: nothing is kept as a trajectory.
 */
final class CompletionEndpoint {

  private final OpenAiServer server;

  CompletionEndpoint(OpenAiServer server) {
    this.server = server;
  }

  private record Heard(int choice, int index, int token, float logprob, int[] topIds, float[] topLogprobs) {}

  void handle(Exchange ex, JsonNode body) throws Exception {
    if (!body.isObject()) {
      throw new BadRequestException("the request body must be a JSON object", null);
    }
    List<int[]> prompts = prompts(body.get("prompt"));
    SamplingFields.Common common = SamplingFields.parse(body, server.defaults, server.maxN, server.vocab);
    Target target = server.target(common.model());
    JsonNode lpNode = body.get("logprobs");
    int logprobs = -1;
    if (SamplingFields.present(lpNode)) {
      long v = SamplingFields.integer(lpNode, "logprobs");
      if (v < 0 || v > SamplingParams.MAX_TOP_LOGPROBS) {
        throw new BadRequestException("'logprobs' must be an integer from 0 to " + SamplingParams.MAX_TOP_LOGPROBS + ", got " + v,
            "logprobs");
      }
      logprobs = (int) v;
    }
    boolean echo = SamplingFields.present(body.get("echo")) && SamplingFields.bool(body.get("echo"), "echo");
    if (echo && logprobs >= 0) {
      throw new BadRequestException("'echo' with 'logprobs' is not supported by this server (no prompt log-probs)", "echo");
    }
    if (SamplingFields.present(body.get("suffix"))) {
      throw new BadRequestException("'suffix' is not supported by this server", "suffix");
    }
    boolean returnIds = SamplingFields.present(body.get("return_token_ids"))
        && SamplingFields.bool(body.get("return_token_ids"), "return_token_ids");
    boolean explicitMax = SamplingFields.present(body.get("max_tokens"));
    SamplingParams.Builder sb = common.sampling().toBuilder().topLogprobs(Math.max(logprobs, 0));
    JsonNode responseSchema = ChatRequest.responseFormat(body.get("response_format"));
    if (responseSchema != null) {
      try {
        sb.constraint(JsonConstraint.schema(TokenVocabulary.of(server.format.tokenizer()), responseSchema));
      } catch (UnsupportedOperationException e) {
        throw new BadRequestException("constrained decoding is not available with this model's tokenizer: " + e.getMessage(),
            "response_format");
      }
    }
    SamplingParams sampling;
    try {
      sampling = sb.build();
    } catch (IllegalArgumentException e) {
      if (responseSchema == null) {
        throw e;
      }
      throw new BadRequestException("'response_format' ends the completion at end-of-sequence: with 'ignore_eos' it needs "
          + "'stop_token_ids'", "response_format");
    }
    for (int[] p : prompts) {
      long need = (long) p.length + sampling.maxNewTokens();
      if (p.length >= server.maxContext || (explicitMax && need > server.maxContext)) {
        throw new BadRequestException("This model's maximum context length is " + server.maxContext + " tokens. However, you "
            + "requested " + need + " tokens (" + p.length + " in the prompt, " + sampling.maxNewTokens() + " in the completion). "
            + "Please reduce the length of the prompt or completion.", explicitMax ? "max_tokens" : "prompt");
      }
    }
    server.metrics.requests.incrementAndGet();
    int n = common.n();
    int total = prompts.size() * n;
    LinkedBlockingQueue<Heard> heard = new LinkedBlockingQueue<>();
    List<CompletableFuture<Completion>> futures = new ArrayList<>(total);
    for (int pi = 0; pi < prompts.size(); pi++) {
      for (int i = 0; i < n; i++) {
        SamplingParams p = sampling;
        if (n > 1 && sampling.seed().isPresent()) {
          p = sampling.toBuilder().seed(sampling.seed().getAsLong() + i).build();
        }
        int choice = pi * n + i;
        futures.add(target.source().submit(prompts.get(pi), p,
            (index, token, lp, ids, lps) -> heard.add(new Heard(choice, index, token, lp, ids, lps))));
      }
    }
    String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
    long created = System.currentTimeMillis() / 1000;
    try {
      if (common.stream()) {
        stream(ex, common, prompts, futures, heard, id, created, logprobs, echo, target.name());
        return;
      }
      ex.awaitWatching(() -> futures.stream().allMatch(CompletableFuture::isDone));
      List<Completion> done = new ArrayList<>(total);
      for (CompletableFuture<Completion> f : futures) {
        done.add(await(f));
      }
      List<List<Heard>> tops = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        tops.add(new ArrayList<>());
      }
      for (Heard h : heard) {
        tops.get(h.choice()).add(h);
      }
      ObjectNode out = Exchange.JSON.createObjectNode();
      out.put("id", id).put("object", "text_completion").put("created", created).put("model", target.name());
      ArrayNode arr = out.putArray("choices");
      int promptTokens = 0;
      int completionTokens = 0;
      for (int[] p : prompts) {
        promptTokens += p.length;
      }
      for (int c = 0; c < total; c++) {
        Completion comp = done.get(c);
        int[] prompt = prompts.get(c / n);
        Text t = text(comp, common, sampling);
        String prefix = echo ? decode(prompt, common.skipSpecialTokens()) : "";
        ObjectNode choice = arr.addObject().put("index", c).put("text", prefix + t.text());
        if (logprobs >= 0) {
          choice.set("logprobs", logprobs(comp, tops.get(c), common.returnTokensAsTokenIds(), logprobs, prefix.length()));
        } else {
          choice.putNull("logprobs");
        }
        choice.put("finish_reason", comp.finishReason().wireName());
        stopReason(choice, t);
        if (returnIds) {
          ArrayNode ids = choice.putArray("token_ids");
          Arrays.stream(comp.tokens()).forEach(ids::add);
          ArrayNode pids = choice.putArray("prompt_token_ids");
          Arrays.stream(prompt).forEach(pids::add);
        }
        completionTokens += comp.tokens().length;
      }
      ChatEndpoint.usage(out.putObject("usage"), promptTokens, completionTokens);
      server.metrics.succeeded.incrementAndGet();
      server.metrics.promptTokens.addAndGet(promptTokens);
      server.metrics.generationTokens.addAndGet(completionTokens);
      ex.json(200, out);
    } finally {
      futures.forEach(f -> f.cancel(true)); // no-op when done; frees the engine's room when the client left
    }
  }

  private void stream(Exchange ex, SamplingFields.Common common, List<int[]> prompts, List<CompletableFuture<Completion>> futures,
      LinkedBlockingQueue<Heard> heard, String id, long created, int logprobs, boolean echo, String model) throws Exception {
    int total = futures.size();
    int n = common.n();
    boolean usage = common.includeUsage();
    TextDelta[] deltas = new TextDelta[total];
    StringBuilder[] sent = new StringBuilder[total];
    int[] offset = new int[total];
    for (int c = 0; c < total; c++) {
      deltas[c] = new TextDelta(ids -> decode(ids, common.skipSpecialTokens()), common.sampling().stopStrings(), false);
      sent[c] = new StringBuilder();
    }
    ex.startEvents();
    if (echo) {
      for (int c = 0; c < total; c++) {
        String p = decode(prompts.get(c / n), common.skipSpecialTokens());
        offset[c] = p.length();
        ex.event(chunk(model, id, created, c, p, null, null, usage));
      }
    }
    List<Heard> batch = new ArrayList<>();
    while (true) {
      Heard h = heard.poll(20, TimeUnit.MILLISECONDS);
      if (h == null) {
        ex.keepAlive();
        if (futures.stream().allMatch(CompletableFuture::isDone) && heard.isEmpty()) {
          break;
        }
        continue;
      }
      batch.clear();
      batch.add(h);
      heard.drainTo(batch);
      for (Heard x : batch) {
        if (isEnd(x.token(), common.sampling()) && !common.includeStopStr()) {
          continue; // the end-of-sequence or stop id is not text
        }
        String piece = deltas[x.choice()].advance(x.token());
        ObjectNode lp = null;
        if (logprobs >= 0) {
          lp = logprobs(new int[] {x.token()}, new float[] {x.logprob()}, List.of(x), common.returnTokensAsTokenIds(), logprobs,
              offset[x.choice()] + sent[x.choice()].length());
        }
        if (!piece.isEmpty() || lp != null) {
          sent[x.choice()].append(piece);
          ex.event(chunk(model, id, created, x.choice(), piece, lp, null, usage));
        }
      }
      ex.keepAlive();
    }
    int promptTokens = 0;
    for (int[] p : prompts) {
      promptTokens += p.length;
    }
    int completionTokens = 0;
    for (int c = 0; c < total; c++) {
      Completion comp = await(futures.get(c));
      completionTokens += comp.tokens().length;
      Text t = text(comp, common, common.sampling());
      String rest = deltas[c].rest(t.text(), sent[c].toString());
      ObjectNode last = chunk(model, id, created, c, rest, null, comp.finishReason().wireName(), usage);
      stopReason((ObjectNode) last.get("choices").get(0), t);
      ex.event(last);
    }
    server.metrics.succeeded.incrementAndGet();
    server.metrics.promptTokens.addAndGet(promptTokens);
    server.metrics.generationTokens.addAndGet(completionTokens);
    if (usage) {
      ObjectNode u = Exchange.JSON.createObjectNode();
      u.put("id", id).put("object", "text_completion").put("created", created).put("model", model);
      u.putArray("choices");
      ChatEndpoint.usage(u.putObject("usage"), promptTokens, completionTokens);
      ex.event(u);
    }
    ex.done();
  }

  private static ObjectNode chunk(String model, String id, long created, int index, String text, ObjectNode logprobs, String finish,
      boolean usage) {
    ObjectNode out = Exchange.JSON.createObjectNode();
    out.put("id", id).put("object", "text_completion").put("created", created).put("model", model);
    ObjectNode c = out.putArray("choices").addObject().put("index", index).put("text", text);
    c.set("logprobs", logprobs); // null is written as null
    c.put("finish_reason", finish); // null is written as null
    if (usage) {
      out.putNull("usage");
    }
    return out;
  }

  /** The completion's text and what stopped it. */
  private record Text(String text, String stopString, Integer stopToken) {}

  private Text text(Completion c, SamplingFields.Common common, SamplingParams sampling) {
    int[] ids = c.tokens();
    int end = ids.length;
    Integer stopToken = null;
    if (c.finishReason() == FinishReason.STOP && end > 0 && isEnd(ids[end - 1], sampling)) {
      stopToken = ids[end - 1];
      if (!common.includeStopStr()) {
        end--;
      }
    }
    String text = decode(Arrays.copyOf(ids, end), common.skipSpecialTokens());
    String cut = cutAtStop(text, sampling.stopStrings(), common.includeStopStr());
    String stopString = null;
    if (cut.length() != text.length() || (common.includeStopStr() && stopToken == null && c.finishReason() == FinishReason.STOP)) {
      for (String s : sampling.stopStrings()) {
        if (text.contains(s)) {
          stopString = s;
          break;
        }
      }
    }
    boolean eos = stopToken != null && server.format.tokenizer().eosTokenIds().contains(stopToken)
        && !sampling.stopTokenIds().contains(stopToken);
    return new Text(cut, stopString, eos ? null : stopToken);
  }

  private boolean isEnd(int token, SamplingParams sampling) {
    return (!sampling.ignoreEos() && server.format.tokenizer().eosTokenIds().contains(token)) || sampling.stopTokenIds().contains(token);
  }

  private static void stopReason(ObjectNode choice, Text t) {
    if (t.stopString() != null) {
      choice.put("stop_reason", t.stopString());
    } else if (t.stopToken() != null) {
      choice.put("stop_reason", t.stopToken());
    } else {
      choice.putNull("stop_reason");
    }
  }

  /** {@code text} up to the first stop string found, or through it when {@code include}. */
  static String cutAtStop(String text, List<String> stops, boolean include) {
    int best = -1;
    String which = null;
    for (String s : stops) {
      int at = text.indexOf(s);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        which = s;
      }
    }
    if (best < 0) {
      return text;
    }
    return text.substring(0, include ? best + which.length() : best);
  }

  private ObjectNode logprobs(Completion c, List<Heard> tops, boolean asIds, int k, int textOffset) {
    return logprobs(c.tokens(), c.logprobs(), tops, asIds, k, textOffset);
  }

  /** OpenAI's legacy completion log-probs: tokens, token_logprobs, top_logprobs (k best plus the sampled one), text_offset. */
  private ObjectNode logprobs(int[] ids, float[] lps, List<Heard> tops, boolean asIds, int k, int textOffset) {
    ObjectNode out = Exchange.JSON.createObjectNode();
    ArrayNode tokens = out.putArray("tokens");
    ArrayNode values = out.putArray("token_logprobs");
    ArrayNode top = out.putArray("top_logprobs");
    ArrayNode offsets = out.putArray("text_offset");
    int at = textOffset;
    for (int i = 0; i < ids.length; i++) {
      String text = server.format.tokenizer().decode(new int[] {ids[i]}, false);
      String name = asIds ? "token_id:" + ids[i] : text;
      tokens.add(name);
      values.add(lps[i]);
      offsets.add(at);
      at += text.length();
      if (k > 0 && i < tops.size()) {
        ObjectNode alts = top.addObject();
        Heard h = tops.get(i);
        for (int j = 0; j < h.topIds().length; j++) {
          alts.put(asIds ? "token_id:" + h.topIds()[j] : server.format.tokenizer().decode(new int[] {h.topIds()[j]}, false),
              h.topLogprobs()[j]);
        }
        alts.put(name, lps[i]);
      } else {
        top.addNull();
      }
    }
    return out;
  }

  /** {@code POST /tokenize}: {"prompt": text} or {"messages": [...]} to ids, as vLLM answers. */
  void tokenize(Exchange ex, JsonNode body) {
    if (!body.isObject()) {
      throw new BadRequestException("the request body must be a JSON object", null);
    }
    JsonNode model = body.get("model");
    if (SamplingFields.present(model)) {
      server.checkModel(model.asText());
    }
    int[] ids;
    if (SamplingFields.present(body.get("prompt"))) {
      if (!body.get("prompt").isTextual()) {
        throw new BadRequestException("'prompt' must be a string", "prompt");
      }
      ids = server.format.tokenizer().encode(body.get("prompt").asText());
    } else if (SamplingFields.present(body.get("messages"))) {
      ChatRequest req = ChatRequest.parse(body, server.defaults, server.maxN, server.vocab);
      String rendered = server.format.render(req.messages(), req.tools(),
          !SamplingFields.present(body.get("add_generation_prompt")) || body.get("add_generation_prompt").asBoolean());
      ids = server.format.tokenizer().encode(rendered);
    } else {
      throw new BadRequestException("send 'prompt' (a string) or 'messages'", "prompt");
    }
    ObjectNode out = Exchange.JSON.createObjectNode().put("count", ids.length).put("max_model_len", server.maxContext);
    ArrayNode arr = out.putArray("tokens");
    Arrays.stream(ids).forEach(arr::add);
    ex.json(200, out);
  }

  /** {@code POST /detokenize}: {"tokens": [ids]} to {"prompt": text}. */
  void detokenize(Exchange ex, JsonNode body) {
    if (!body.isObject() || !SamplingFields.present(body.get("tokens"))) {
      throw new BadRequestException("'tokens' must be an array of token ids", "tokens");
    }
    JsonNode model = body.get("model");
    if (SamplingFields.present(model)) {
      server.checkModel(model.asText());
    }
    List<Integer> ids = SamplingFields.ids(body.get("tokens"), "tokens", server.vocab);
    ex.json(200, Exchange.JSON.createObjectNode().put("prompt",
        server.format.tokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray(), false)));
  }

  /** A string, an array of ids, or an array of either (one prompt each). */
  private List<int[]> prompts(JsonNode p) {
    if (!SamplingFields.present(p)) {
      throw new BadRequestException("'prompt' is required: a string, an array of token ids, or an array of either", "prompt");
    }
    List<int[]> out = new ArrayList<>();
    if (p.isTextual()) {
      out.add(encode(p.asText()));
    } else if (p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
      out.add(SamplingFields.ids(p, "prompt", server.vocab).stream().mapToInt(Integer::intValue).toArray());
    } else if (p.isArray() && !p.isEmpty()) {
      for (JsonNode x : p) {
        if (x.isTextual()) {
          out.add(encode(x.asText()));
        } else if (x.isArray()) {
          out.add(SamplingFields.ids(x, "prompt", server.vocab).stream().mapToInt(Integer::intValue).toArray());
        } else {
          throw new BadRequestException("'prompt' entries must be strings or arrays of token ids", "prompt");
        }
      }
    } else {
      throw new BadRequestException("'prompt' must be a string, an array of token ids, or an array of either", "prompt");
    }
    for (int[] ids : out) {
      if (ids.length == 0) {
        throw new BadRequestException("'prompt' must not be empty", "prompt");
      }
    }
    return out;
  }

  private int[] encode(String text) {
    return server.format.tokenizer().encode(text);
  }

  private String decode(int[] ids, boolean skip) {
    return server.format.tokenizer().decode(ids, skip);
  }

  private static Completion await(CompletableFuture<Completion> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) {
        throw new BadRequestException(iae.getMessage(), "prompt");
      }
      throw new IllegalStateException("completion failed: " + e.getCause().getMessage(), e.getCause());
    } catch (CancellationException e) {
      throw new InterruptedException("cancelled");
    }
  }
}
