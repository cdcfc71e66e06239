package dev.art4j.rollout.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenListener;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.TokenVocabulary;
import dev.art4j.rollout.constrain.UnsupportedSchemaException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

/**
 * Answers stateless chat requests (the whole conversation every time, as OpenAI's API and
 * langchain4j send them) from a {@link CompletionSource}, and still records every conversation
 * token-in/token-out: a request that continues a conversation this object answered before
 * (same messages, then only tool results or user messages) extends that conversation's
 * {@link Transcript} instead of re-tokenising it. The conversations are kept (the latest of each
 * line, at most {@code capacity}) and can be taken as trajectories for training.
 *
 * <p>Messages are matched loosely where clients legitimately differ: content up to surrounding
 * whitespace, tool-call arguments as JSON values, reasoning ignored. A conversation that does not
 * continue a kept one (or that contains an assistant message this object did not write) is
 * rendered and tokenised afresh; its assistant messages are then prompt, not sampled. Thread-safe.
 */
public final class ChatCompletions {

  private final CompletionSource source;
  private final ChatFormat format;
  private final int capacity;
  private final Deque<Transcript> kept = new ArrayDeque<>();
  private final Map<Transcript, Transcript> origins = new IdentityHashMap<>();

  /**
   * @param capacity how many conversations to keep (the oldest is dropped first)
   */
  public ChatCompletions(CompletionSource source, ChatFormat format, int capacity) {
    this.source = Objects.requireNonNull(source, "source");
    this.format = Objects.requireNonNull(format, "format");
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be > 0, got " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * One reply.
   *
   * @param message      the assistant message (content without a matched stop string, tool calls)
   * @param reply        the parsed reply (each call's problem, if its JSON could not be read)
   * @param finishReason OpenAI's: {@code "tool_calls"}, {@code "length"} or {@code "stop"}
   * @param completion   the sampled ids and log-probs
   * @param trajectory   the whole conversation up to and including this reply, with its tokens
   */
  public record Choice(Message message, ParsedReply reply, String finishReason, Completion completion, Trajectory trajectory) {}

  public ChatFormat format() {
    return format;
  }

  /**
   * Samples {@code n} replies to a conversation.
   *
   * @param params sampling; the end-of-turn id is added to its stop ids. With a constraint (JSON
   *     content, OpenAI's {@code response_format}) and no forced call, the reply is content only,
   *     never read for tool calls
   * @throws IllegalArgumentException for a conversation that cannot be answered (empty, ends
   *     with an assistant message and nothing after, a forced function not among the tools, a
   *     forced tool whose parameters schema is outside the subset constrained decoding enforces:
   *     an {@link UnsupportedSchemaException} naming {@code tools[i].function.parameters...})
   * @throws InterruptedException if interrupted while sampling
   */
  public List<Choice> complete(List<Message> messages, List<ToolSpec> tools, SamplingParams params, ToolChoice toolChoice, int n)
      throws InterruptedException {
    return start(messages, tools, params, toolChoice, n, null).finish();
  }

  /**
   * Starts sampling {@code n} replies and returns at once: {@link Pending#finish()} waits for them
   * and keeps the conversation; {@link Pending#abandon()} cancels them and keeps nothing (a client
   * that went away). {@code listeners}, if not null, gives choice {@code i}'s token listener.
   *
   * @throws IllegalArgumentException as {@link #complete}
   */
  public Pending start(List<Message> messages, List<ToolSpec> tools, SamplingParams params, ToolChoice toolChoice, int n,
      IntFunction<TokenListener> listeners) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("messages must not be empty");
    }
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0, got " + n);
    }
    List<ToolSpec> shown = toolChoice.mode() == ToolChoice.Mode.NONE || tools == null ? List.of() : List.copyOf(tools);
    String prefix = null;
    if (toolChoice.mode() == ToolChoice.Mode.REQUIRED || toolChoice.mode() == ToolChoice.Mode.FUNCTION) {
      if (shown.isEmpty()) {
        throw new IllegalArgumentException("tool_choice '" + toolChoice.mode().name().toLowerCase() + "' needs tools");
      }
      if (toolChoice.mode() == ToolChoice.Mode.FUNCTION && shown.stream().noneMatch(t -> t.name().equals(toolChoice.function()))) {
        throw new IllegalArgumentException("tool_choice names function '" + toolChoice.function() + "', which is not among the tools "
            + shown.stream().map(ToolSpec::name).toList());
      }
      prefix = format.parser().forcedCallPrefix(toolChoice.function());
    }
    List<Integer> stops = new ArrayList<>(params.stopTokenIds());
    if (!stops.contains(format.endOfTurnId())) {
      stops.add(format.endOfTurnId());
    }
    SamplingParams.Builder sb = params.toBuilder().stopTokenIds(stops);
    if (prefix != null) {
      sb.constraint(forcedCall(shown, toolChoice.function()));
    }
    SamplingParams sampling = sb.build();

    Transcript base = open(messages, shown);
    if (prefix != null) {
      base.prefill(prefix);
    }
    List<Transcript> branches = new ArrayList<>(n);
    List<CompletableFuture<Completion>> futures = new ArrayList<>(n);
    int[] prompt = base.prompt();
    for (int i = 0; i < n; i++) {
      Transcript branch = n == 1 ? base : base.copy();
      branches.add(branch);
      SamplingParams p = sampling;
      if (n > 1 && sampling.seed().isPresent()) {
        p = sampling.toBuilder().seed(sampling.seed().getAsLong() + i).build();
      }
      futures.add(listeners == null ? source.submit(prompt, p) : source.submit(prompt, p, listeners.apply(i)));
    }
    // a reply constrained to JSON content (response_format) is never read for tool calls
    return new Pending(base, branches, futures, params.stopStrings(), prompt.length, prefix == null && params.constraint() != null);
  }

  /**
   * What a forced call may be after its prefilled prefix: for a named tool its arguments and the
   * closing text; otherwise, for each tool, the rest of its name, its arguments, the closing text.
   *
   * @throws IllegalArgumentException naming {@code tools[i].function.parameters.<path>} for a
   *     schema outside the subset {@link JsonConstraint} enforces
   */
  private JsonConstraint forcedCall(List<ToolSpec> tools, String function) {
    ToolCallParser parser = format.parser();
    String open = parser.forcedCallPrefix(function);
    List<JsonConstraint.Framed> alternatives = new ArrayList<>();
    for (int i = 0; i < tools.size(); i++) {
      ToolSpec t = tools.get(i);
      if (function != null && !t.name().equals(function)) {
        continue;
      }
      try {
        JsonConstraint.check(t.parameters());
      } catch (UnsupportedSchemaException e) {
        throw e.under("tools[" + i + "].function.parameters");
      }
      String full = parser.forcedCallPrefix(t.name());
      if (!full.startsWith(open)) {
        throw new IllegalStateException("the parser's forced prefix for '" + t.name() + "' does not extend its prefix for any tool");
      }
      alternatives.add(new JsonConstraint.Framed(full.substring(open.length()), t.parameters(), parser.forcedCallSuffix()));
    }
    try {
      return JsonConstraint.oneOf(TokenVocabulary.of(format.tokenizer()), alternatives);
    } catch (UnsupportedOperationException e) {
      throw new IllegalArgumentException("tool_choice '" + (function == null ? "required" : function) + "' needs constrained "
          + "decoding, which this tokenizer does not allow: " + e.getMessage(), e);
    }
  }

  /** Replies being sampled; see {@link #start}. */
  public final class Pending {
    private final Transcript base;
    private final List<Transcript> branches;
    private final List<CompletableFuture<Completion>> futures;
    private final List<String> stopStrings;
    private final int promptTokens;
    private final boolean plainText;

    private Pending(Transcript base, List<Transcript> branches, List<CompletableFuture<Completion>> futures,
        List<String> stopStrings, int promptTokens, boolean plainText) {
      this.plainText = plainText;
      this.base = base;
      this.branches = branches;
      this.futures = futures;
      this.stopStrings = stopStrings;
      this.promptTokens = promptTokens;
    }

    /** Length of the prompt sent for every choice (with any forced-call prefix). */
    public int promptTokens() {
      return promptTokens;
    }

    /** Whether every choice has finished sampling (or failed). */
    public boolean isDone() {
      return futures.stream().allMatch(CompletableFuture::isDone);
    }

    /**
     * Waits for every choice and keeps the conversation.
     *
     * @throws InterruptedException if interrupted (nothing is kept, the requests are cancelled)
     */
    public List<Choice> finish() throws InterruptedException {
      List<Choice> out = new ArrayList<>(futures.size());
      try {
        for (int i = 0; i < futures.size(); i++) {
          Completion c = AgentLoop.await(futures.get(i));
          Transcript t = branches.get(i);
          String idPrefix = "call_" + Long.toHexString(System.nanoTime() & 0xffffffffL) + "_" + i + "_";
          ParsedReply reply = t.addReply(c, idPrefix, stopStrings, plainText);
          // cut by the token limit: "length" even inside a call (its arguments are unfinished), as vLLM
          String finish = c.finishReason() == FinishReason.LENGTH ? "length" : reply.hasToolCalls() ? "tool_calls" : "stop";
          out.add(new Choice(reply.toMessage(), reply, finish, c, t.toTrajectory()));
        }
      } catch (InterruptedException | RuntimeException e) {
        abandon();
        throw e;
      }
      keep(base, branches);
      return out;
    }

    /** Cancels every choice (the engine frees their cache) and keeps nothing. */
    public void abandon() {
      futures.forEach(f -> f.cancel(true));
      forget(base);
    }
  }

  /** The kept conversations as trajectories, oldest first (each the latest state of its line). */
  public synchronized List<Trajectory> trajectories() {
    return kept.stream().map(Transcript::toTrajectory).toList();
  }

  /** {@link #trajectories()}, and forgets them. */
  public synchronized List<Trajectory> drainTrajectories() {
    List<Trajectory> out = trajectories();
    kept.clear();
    origins.clear();
    return out;
  }

  /** A private transcript ready for a reply: a kept one extended by the new messages, or a fresh one. */
  private synchronized Transcript open(List<Message> messages, List<ToolSpec> tools) {
    Transcript best = null;
    for (Transcript t : kept) {
      List<Message> had = t.messages();
      if (!t.awaitingReply() && had.size() < messages.size() && t.tools().equals(tools)
          && (best == null || had.size() > best.messages().size()) && continues(had, messages)) {
        best = t;
      }
    }
    if (best != null) {
      Transcript next = best.copy();
      next.addMessages(messages.subList(best.messages().size(), messages.size()));
      origins.put(next, best);
      return next;
    }
    if (messages.get(messages.size() - 1).role() == Role.ASSISTANT) {
      throw new IllegalArgumentException("the conversation ends with an assistant message: nothing to reply to");
    }
    return Transcript.start(format, messages, tools);
  }

  private synchronized void forget(Transcript base) {
    origins.remove(base);
  }

  private synchronized void keep(Transcript base, List<Transcript> branches) {
    Transcript origin = origins.remove(base);
    if (origin != null) {
      kept.remove(origin);
    }
    for (Transcript b : branches) {
      kept.addLast(b);
    }
    while (kept.size() > capacity) {
      kept.removeFirst();
    }
  }

  /** Whether {@code messages} starts with {@code had} and adds no assistant message after it. */
  static boolean continues(List<Message> had, List<Message> messages) {
    for (int i = 0; i < had.size(); i++) {
      if (!same(had.get(i), messages.get(i))) {
        return false;
      }
    }
    for (int i = had.size(); i < messages.size(); i++) {
      if (messages.get(i).role() == Role.ASSISTANT) {
        return false;
      }
    }
    return true;
  }

  static boolean same(Message a, Message b) {
    if (a.role() != b.role() || !a.content().strip().equals(b.content().strip())
        || a.toolCalls().size() != b.toolCalls().size()) {
      return false;
    }
    if (a.role() == Role.TOOL && a.toolCallId() != null && b.toolCallId() != null && !a.toolCallId().equals(b.toolCallId())) {
      return false;
    }
    for (int i = 0; i < a.toolCalls().size(); i++) {
      ToolCall x = a.toolCalls().get(i);
      ToolCall y = b.toolCalls().get(i);
      if (!x.name().equals(y.name()) || !sameJson(x.argumentsJson(), y.argumentsJson())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameJson(String x, String y) {
    if (x.equals(y)) {
      return true;
    }
    try {
      JsonNode a = CallJson.JSON.readTree(x);
      JsonNode b = CallJson.JSON.readTree(y);
      return a != null && a.equals(b);
    } catch (IOException e) {
      return false;
    }
  }
}
