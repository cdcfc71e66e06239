package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.TokenVocabulary;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** {@code POST /v1/chat/completions}, whole or streamed as OpenAI streams it. */
final class ChatEndpoint {

  private final OpenAiServer server;

  ChatEndpoint(OpenAiServer server) {
    this.server = server;
  }

  /** A token heard from the engine for choice {@code choice}. */
  private record Heard(int choice, int token, float logprob, int[] topIds, float[] topLogprobs) {}

  void handle(Exchange ex, JsonNode body) throws Exception {
    ChatRequest req = ChatRequest.parse(body, server.defaults, server.maxN, server.vocab);
    Target target = server.target(req.common().model());
    server.metrics.requests.incrementAndGet();
    boolean explicitMax = SamplingFields.present(body.get("max_tokens")) || SamplingFields.present(body.get("max_completion_tokens"));
    LinkedBlockingQueue<Heard> heard = new LinkedBlockingQueue<>();
    boolean listen = req.common().stream() || req.topLogprobs() > 0;
    ChatCompletions.Pending pending;
    try {
      SamplingParams sampling = req.sampling();
      if (req.responseSchema() != null || req.forcesCall()) {
        TokenVocabulary vocabulary;
        try {
          vocabulary = TokenVocabulary.of(server.format.tokenizer());
        } catch (UnsupportedOperationException e) {
          throw new BadRequestException("constrained decoding is not available with this model's tokenizer: " + e.getMessage(),
              req.forcesCall() ? "tool_choice" : "response_format");
        }
        if (!req.forcesCall()) {
          sampling = sampling.toBuilder().constraint(JsonConstraint.schema(vocabulary, req.responseSchema())).build();
        }
      }
      pending = target.chats().start(req.messages(), req.tools(), sampling, req.toolChoice(), req.n(),
          listen ? i -> (index, token, lp, ids, lps) -> heard.add(new Heard(i, token, lp, ids, lps)) : null);
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(e.getMessage(), "messages");
    }
    long need = (long) pending.promptTokens() + req.sampling().maxNewTokens();
    if (explicitMax && need > server.maxContext) {
      pending.abandon();
      String field = SamplingFields.present(body.get("max_completion_tokens")) ? "max_completion_tokens" : "max_tokens";
      throw new BadRequestException("This model's maximum context length is " + server.maxContext + " tokens. However, you "
          + "requested " + need + " tokens (" + pending.promptTokens() + " in the messages, " + req.sampling().maxNewTokens()
          + " in the completion). Please reduce the length of the messages or completion.", field);
    }
    String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
    long created = System.currentTimeMillis() / 1000;
    if (req.common().stream()) {
      stream(ex, req, pending, heard, id, created, target.name());
      return;
    }
    List<ChatCompletions.Choice> choices;
    try {
      ex.awaitWatching(pending::isDone);
    } catch (Exception e) {
      pending.abandon();
      throw e;
    }
    choices = pending.finish();
    List<List<Heard>> tops = split(heard, req.n());
    ObjectNode out = Exchange.JSON.createObjectNode();
    out.put("id", id).put("object", "chat.completion").put("created", created).put("model", target.name());
    ArrayNode arr = out.putArray("choices");
    List<Trajectory> trajectories = new ArrayList<>();
    int completionTokens = 0;
    for (int i = 0; i < choices.size(); i++) {
      ChatCompletions.Choice c = choices.get(i);
      trajectories.add(c.trajectory().withMetadata("completion_id", id).withMetadata("choice", i));
      ObjectNode choice = arr.addObject().put("index", i);
      choice.set("message", message(c, content(c, req)));
      if (req.logprobs()) {
        ObjectNode lp = choice.putObject("logprobs");
        ArrayNode content = lp.putArray("content");
        int[] ids = c.completion().tokens();
        for (int j = 0; j < ids.length; j++) {
          content.add(entry(ids[j], c.completion().logprobs()[j], j < tops.get(i).size() ? tops.get(i).get(j) : null,
              req.common().returnTokensAsTokenIds()));
        }
        lp.putNull("refusal");
      } else {
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", c.finishReason());
      completionTokens += c.completion().tokens().length;
    }
    usage(out.putObject("usage"), pending.promptTokens(), completionTokens);
    server.keepCompletion(id, trajectories);
    server.metrics.succeeded.incrementAndGet();
    server.metrics.promptTokens.addAndGet(pending.promptTokens());
    server.metrics.generationTokens.addAndGet(completionTokens);
    ex.json(200, out);
  }

  private void stream(Exchange ex, ChatRequest req, ChatCompletions.Pending pending, LinkedBlockingQueue<Heard> heard, String id,
      long created, String model) throws Exception {
    int n = req.n();
    boolean usage = req.common().includeUsage();
    boolean skip = req.common().skipSpecialTokens();
    List<String> stops = req.sampling().stopStrings();
    TextDelta[] deltas = new TextDelta[n];
    StringBuilder[] sent = new StringBuilder[n];
    for (int i = 0; i < n; i++) {
      // a marker may open a tool call or reasoning that the final parse takes out of the content;
      // a JSON response_format reply is content only (and opens with JSON: held back otherwise)
      deltas[i] = new TextDelta(ids -> decode(ids, skip), stops, req.responseSchema() == null || req.forcesCall());
      sent[i] = new StringBuilder();
    }
    try {
      ex.startEvents();
      for (int i = 0; i < n; i++) {
        ObjectNode delta = Exchange.JSON.createObjectNode().put("role", "assistant").put("content", "");
        ex.event(chunk(model, id, created, i, delta, null, null, usage));
      }
      List<Heard> batch = new ArrayList<>();
      while (true) {
        Heard h = heard.poll(20, TimeUnit.MILLISECONDS);
        if (h == null) {
          ex.keepAlive();
          if (pending.isDone() && heard.isEmpty()) {
            break;
          }
          continue;
        }
        batch.clear();
        batch.add(h);
        heard.drainTo(batch);
        for (int i = 0; i < n; i++) {
          StringBuilder text = new StringBuilder();
          ArrayNode lps = req.logprobs() ? Routes.array() : null;
          boolean any = false;
          for (Heard x : batch) {
            if (x.choice() == i) {
              any = true;
              String piece = deltas[i].advance(endsTurn(x.token(), req) ? null : x.token());
              if (!req.forcesCall()) { // a forced reply is all call: sent parsed, at the end
                text.append(piece);
              }
              if (lps != null) {
                lps.add(entry(x.token(), x.logprob(), x, req.common().returnTokensAsTokenIds()));
              }
            }
          }
          if (any && (text.length() > 0 || lps != null)) {
            sent[i].append(text);
            ObjectNode delta = Exchange.JSON.createObjectNode().put("content", text.toString());
            ex.event(chunk(model, id, created, i, delta, lps, null, usage));
          }
        }
        ex.keepAlive();
      }
    } catch (Exception e) {
      pending.abandon();
      throw e;
    }
    List<ChatCompletions.Choice> choices = pending.finish();
    List<Trajectory> trajectories = new ArrayList<>();
    int completionTokens = 0;
    for (int i = 0; i < n; i++) {
      ChatCompletions.Choice c = choices.get(i);
      trajectories.add(c.trajectory().withMetadata("completion_id", id).withMetadata("choice", i));
      completionTokens += c.completion().tokens().length;
    }
    server.keepCompletion(id, trajectories);
    server.metrics.succeeded.incrementAndGet();
    server.metrics.promptTokens.addAndGet(pending.promptTokens());
    server.metrics.generationTokens.addAndGet(completionTokens);
    for (int i = 0; i < n; i++) {
      ChatCompletions.Choice c = choices.get(i);
      String content = content(c, req);
      String rest = content == null ? "" : deltas[i].rest(content, sent[i].toString());
      if (!rest.isEmpty()) {
        ex.event(chunk(model, id, created, i, Exchange.JSON.createObjectNode().put("content", rest), null, null, usage));
      }
      if (c.message().reasoningContent() != null) {
        ex.event(chunk(model, id, created, i, Exchange.JSON.createObjectNode().put("reasoning_content", c.message().reasoningContent()),
            null, null, usage));
      }
      List<ToolCall> calls = c.message().toolCalls();
      for (int j = 0; j < calls.size(); j++) {
        ToolCall call = calls.get(j);
        ObjectNode d = Exchange.JSON.createObjectNode();
        ObjectNode tc = d.putArray("tool_calls").addObject().put("index", j).put("id", call.id()).put("type", "function");
        tc.putObject("function").put("name", call.name()).put("arguments", "");
        ex.event(chunk(model, id, created, i, d, null, null, usage));
        String args = call.argumentsJson();
        for (int from = 0; from < args.length(); from += 16) {
          ObjectNode piece = Exchange.JSON.createObjectNode();
          piece.putArray("tool_calls").addObject().put("index", j).putObject("function")
              .put("arguments", args.substring(from, Math.min(args.length(), from + 16)));
          ex.event(chunk(model, id, created, i, piece, null, null, usage));
        }
      }
      ex.event(chunk(model, id, created, i, Exchange.JSON.createObjectNode(), null, c.finishReason(), usage));
    }
    if (usage) {
      ObjectNode last = Exchange.JSON.createObjectNode();
      last.put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", model);
      last.putArray("choices");
      usage(last.putObject("usage"), pending.promptTokens(), completionTokens);
      ex.event(last);
    }
    ex.done();
  }

  private static ObjectNode chunk(String model, String id, long created, int index, ObjectNode delta, ArrayNode logprobs,
      String finish, boolean usage) {
    ObjectNode out = Exchange.JSON.createObjectNode();
    out.put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", model);
    ObjectNode c = out.putArray("choices").addObject().put("index", index);
    c.set("delta", delta);
    if (logprobs == null) {
      c.putNull("logprobs");
    } else {
      c.putObject("logprobs").set("content", logprobs);
    }
    c.put("finish_reason", finish); // null is written as null
    if (usage) {
      out.putNull("usage");
    }
    return out;
  }

  /**
   * The reply's content: for a plain reply the text exactly as sampled (whitespace included; up to
   * a stop string, or through it with include_stop_str_in_output), else the parsed text around
   * the tool calls and reasoning. Null for a reply that is only tool calls.
   */
  private String content(ChatCompletions.Choice c, ChatRequest req) {
    Message m = c.message();
    if (m.hasToolCalls() || m.reasoningContent() != null) {
      return m.content().isEmpty() && m.hasToolCalls() ? null : m.content();
    }
    int[] ids = c.completion().tokens();
    int end = ids.length;
    if (end > 0 && endsTurn(ids[end - 1], req)) {
      end--;
    }
    String text = decode(Arrays.copyOf(ids, end), req.common().skipSpecialTokens());
    return CompletionEndpoint.cutAtStop(text, req.sampling().stopStrings(), req.common().includeStopStr());
  }

  /** The end-of-turn, end-of-sequence or a stop id: not part of the reply's text. */
  private boolean endsTurn(int id, ChatRequest req) {
    return id == server.format.endOfTurnId() || server.format.tokenizer().eosTokenIds().contains(id)
        || req.sampling().stopTokenIds().contains(id);
  }

  private String decode(int[] ids, boolean skip) {
    return server.format.tokenizer().decode(ids, skip);
  }

  private static ObjectNode message(ChatCompletions.Choice c, String content) {
    Message m = c.message();
    ObjectNode out = Exchange.JSON.createObjectNode().put("role", "assistant");
    out.put("content", content); // null (a tool call only) is written as null
    if (m.reasoningContent() != null) {
      out.put("reasoning_content", m.reasoningContent());
    }
    if (m.hasToolCalls()) {
      out.set("tool_calls", Exchange.JSON.valueToTree(m.toolCalls()));
    }
    return out;
  }

  /** One entry of chat logprobs: the token, its log-prob, its UTF-8 bytes, and the top alternatives. */
  ObjectNode entry(int id, float logprob, Heard top, boolean asIds) {
    ObjectNode e = token(id, logprob, asIds);
    ArrayNode alts = e.putArray("top_logprobs");
    if (top != null) {
      for (int k = 0; k < top.topIds().length; k++) {
        alts.add(token(top.topIds()[k], top.topLogprobs()[k], asIds));
      }
    }
    return e;
  }

  private ObjectNode token(int id, float logprob, boolean asIds) {
    String text = asIds ? "token_id:" + id : server.format.tokenizer().decode(new int[] {id}, false);
    ObjectNode e = Exchange.JSON.createObjectNode().put("token", text).put("logprob", logprob);
    ArrayNode bytes = e.putArray("bytes");
    for (byte b : server.format.tokenizer().decode(new int[] {id}, false).getBytes(StandardCharsets.UTF_8)) {
      bytes.add(b & 0xff);
    }
    return e;
  }

  private static List<List<Heard>> split(LinkedBlockingQueue<Heard> heard, int n) {
    List<List<Heard>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new ArrayList<>());
    }
    for (Heard h : heard) {
      out.get(h.choice()).add(h);
    }
    return out;
  }

  static void usage(ObjectNode u, int prompt, int completion) {
    u.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
  }
}
