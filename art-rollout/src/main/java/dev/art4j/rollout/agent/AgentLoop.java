package dev.art4j.rollout.agent;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.ToolErrors;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tool-using agent over a {@link CompletionSource}: the model gets a system prompt, the task
 * and the tools, and answers turn after turn; each turn's tool calls are parsed, checked and
 * executed, and their results go back as tool messages. The rollout ends
 * <ul>
 *   <li>on a reply without tool calls (the answer), {@code finish_reason = "answer"};
 *   <li>on a valid call of the {@link Builder#finishTool finish tool}, if one is registered
 *       ({@code "finish_tool"}; its arguments are kept in the metadata as {@code finish_arguments});
 *   <li>after {@code maxTurns} replies ({@code "max_turns"});
 *   <li>when the conversation reaches {@code maxTokens} ({@code "token_limit"}).
 * </ul>
 * The trajectory is recorded token-in/token-out (see {@link Transcript}), so
 * {@code trajectory.tokens()} is exactly what was sampled, with the sampling-time log-probs.
 * A bad tool call (malformed JSON, unknown tool, arguments breaking the schema) or a tool that
 * throws never ends the rollout: the model reads what was wrong in the tool message.
 *
 * <p>Metrics: {@code turns}, {@code tool_calls}, {@code tool_errors}, {@code sampled_tokens},
 * {@code prompt_tokens} (the final conversation length minus sampled tokens); timings (seconds):
 * {@code sampling}, {@code tools}. Thread-safe: one loop serves any number of concurrent rollouts.
 */
public final class AgentLoop {

  private static final Logger LOG = LoggerFactory.getLogger(AgentLoop.class);

  private final CompletionSource source;
  private final ChatFormat format;
  private final String systemPrompt;
  private final SamplingParams sampling;
  private final int maxTurns;
  private final int maxTokens;
  private final ToolSpec finishTool;
  private final OptionalLong seed;

  private AgentLoop(Builder b) {
    this.source = b.source;
    this.format = b.format;
    this.systemPrompt = b.systemPrompt;
    List<Integer> stops = new ArrayList<>(b.sampling.stopTokenIds());
    if (!stops.contains(format.endOfTurnId())) {
      stops.add(format.endOfTurnId());
    }
    this.sampling = b.sampling.toBuilder().stopTokenIds(stops).build();
    this.maxTurns = b.maxTurns;
    this.maxTokens = b.maxTokens;
    this.finishTool = b.finishTool;
    this.seed = OptionalLong.empty();
  }

  private AgentLoop(AgentLoop base, long seed) {
    this.source = base.source;
    this.format = base.format;
    this.systemPrompt = base.systemPrompt;
    this.sampling = base.sampling;
    this.maxTurns = base.maxTurns;
    this.maxTokens = base.maxTokens;
    this.finishTool = base.finishTool;
    this.seed = OptionalLong.of(seed);
  }

  /**
   * This loop with its turns seeded from {@code seed} (turn {@code t} samples with the
   * {@code t}-th value of a {@link SplittableRandom} seeded with it), so that a rollout gives the
   * same trajectory on the same model and tools whatever runs beside it. Without it, each turn
   * takes the sampling params' seed or else the completion source's next stream, whose order
   * depends on how concurrent rollouts interleave.
   */
  public AgentLoop withSeed(long seed) {
    return new AgentLoop(this, seed);
  }

  public static Builder builder(CompletionSource source, ChatFormat format) {
    return new Builder(source, format);
  }

  /** Runs the task (a user message after the system prompt, if any) with the toolset's tools. */
  public Trajectory run(String task, Toolset toolset) throws InterruptedException {
    List<Message> start = new ArrayList<>();
    if (systemPrompt != null) {
      start.add(Message.system(systemPrompt));
    }
    start.add(Message.user(task));
    return run(start, toolset);
  }

  /**
   * Runs from the given first messages (the system prompt of the builder is not added).
   *
   * @throws InterruptedException if interrupted while waiting for the model
   * @throws IllegalStateException if the completion source fails (the cause is attached)
   */
  public Trajectory run(List<Message> firstMessages, Toolset toolset) throws InterruptedException {
    List<ToolSpec> tools = new ArrayList<>(toolset.tools());
    if (finishTool != null && tools.stream().noneMatch(t -> t.name().equals(finishTool.name()))) {
      tools.add(finishTool);
    }
    Transcript transcript = Transcript.start(format, firstMessages, tools);
    Map<String, Object> metadata = new LinkedHashMap<>();
    List<String> logs = new ArrayList<>();
    int toolCalls = 0;
    int toolErrors = 0;
    List<Boolean> failedToolMessages = new ArrayList<>(); // per tool message added, in order
    int sampled = 0;
    double samplingSeconds = 0;
    double toolSeconds = 0;
    String finish = "max_turns";
    SplittableRandom turnSeeds = seed.isPresent() ? new SplittableRandom(seed.getAsLong()) : null;
    for (int turn = 0; turn < maxTurns; turn++) {
      int room = maxTokens - transcript.length();
      if (room <= 0) {
        finish = "token_limit";
        break;
      }
      SamplingParams params = sampling.maxNewTokens() > room ? sampling.toBuilder().maxNewTokens(room).build() : sampling;
      if (turnSeeds != null) {
        params = params.toBuilder().seed(turnSeeds.nextLong()).build();
      }
      long t0 = System.nanoTime();
      Completion c = await(source.submit(transcript.prompt(), params));
      samplingSeconds += (System.nanoTime() - t0) / 1e9;
      sampled += c.tokens().length;
      ParsedReply reply = ToolCallChecker.check(transcript.addReply(c, "call_" + turn + "_"), tools);
      if (!reply.hasToolCalls()) {
        finish = c.finishReason() == FinishReason.LENGTH && transcript.length() >= maxTokens ? "token_limit" : "answer";
        break;
      }
      List<Message> results = new ArrayList<>();
      List<Boolean> failed = new ArrayList<>();
      boolean finished = false;
      long t1 = System.nanoTime();
      for (ParsedCall call : reply.calls()) {
        toolCalls++;
        ToolResult result;
        if (!call.isOk()) {
          result = ToolResult.error(call.problem());
        } else if (finishTool != null && call.call().name().equals(finishTool.name())) {
          metadata.put("finish_arguments", call.call().argumentsJson());
          finished = true;
          continue;
        } else {
          result = callTool(toolset, call);
        }
        if (result.isError()) {
          toolErrors++;
          logs.add("turn " + turn + ": " + call.call().name() + ": " + result.text());
        }
        results.add(Message.tool(call.call().id(), call.call().name(), result.text()));
        failed.add(result.isError());
      }
      toolSeconds += (System.nanoTime() - t1) / 1e9;
      if (finished) {
        finish = "finish_tool";
        break;
      }
      transcript.addMessages(results);
      failedToolMessages.addAll(failed);
    }
    metadata.put("finish_reason", finish);
    int turns = transcript.turns().size();
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("sampling", samplingSeconds);
    timings.put("tools", toolSeconds);
    Trajectory t = transcript.toTrajectory().withTimings(timings);
    t = t.withMetric("turns", turns).withMetric("tool_calls", toolCalls).withMetric("tool_errors", toolErrors)
        .withMetric("sampled_tokens", sampled)
        .withMetric("prompt_tokens", turns == 0 ? 0 : t.tokens().length() - sampled);
    t = markToolErrors(t, failedToolMessages);
    for (Map.Entry<String, Object> e : metadata.entrySet()) {
      t = t.withMetadata(e.getKey(), e.getValue());
    }
    for (String line : logs) {
      t = t.withLog(line);
    }
    return t;
  }

  private static ToolResult callTool(Toolset toolset, ParsedCall call) {
    try {
      ToolResult r = toolset.call(call.call().name(), call.call().argumentsJson());
      return r == null ? ToolResult.error("Error: tool '" + call.call().name() + "' returned nothing.") : r;
    } catch (RuntimeException e) {
      // the Toolset contract says never throw; a user's toolset still might
      LOG.debug("tool {} threw", call.call().name(), e);
      return ToolResult.error("Error: tool '" + call.call().name() + "' failed: " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
  }

  static Completion await(CompletableFuture<Completion> future) throws InterruptedException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      future.cancel(true);
      throw e;
    } catch (ExecutionException | CancellationException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException("completion failed: " + cause.getMessage(), cause);
    }
  }

  /** Options of an {@link AgentLoop}. */
  /**
   * Marks the failed tool messages in the {@link ToolErrors} metadata. The loop's tool messages
   * are the last {@code failed.size()} tool messages (earlier ones came with the user's history).
   */
  private static Trajectory markToolErrors(Trajectory t, List<Boolean> failed) {
    List<Integer> toolMessages = new ArrayList<>();
    for (int i = 0; i < t.messages().size(); i++) {
      if (t.messages().get(i).role() == Role.TOOL) {
        toolMessages.add(i);
      }
    }
    int offset = toolMessages.size() - failed.size();
    for (int k = 0; k < failed.size(); k++) {
      if (failed.get(k)) {
        t = ToolErrors.mark(t, toolMessages.get(offset + k));
      }
    }
    return t;
  }

  public static final class Builder {
    private final CompletionSource source;
    private final ChatFormat format;
    private String systemPrompt;
    private SamplingParams sampling = SamplingParams.builder().build();
    private int maxTurns = 10;
    private int maxTokens = 4096;
    private ToolSpec finishTool;

    private Builder(CompletionSource source, ChatFormat format) {
      this.source = Objects.requireNonNull(source, "source");
      this.format = Objects.requireNonNull(format, "format");
    }

    /** The system prompt of {@link AgentLoop#run(String, Toolset)}; default none. */
    public Builder systemPrompt(String v) { systemPrompt = v; return this; }

    /** Sampling per turn ({@code maxNewTokens} is per reply); the end-of-turn id is always a stop id. */
    public Builder sampling(SamplingParams v) { sampling = Objects.requireNonNull(v); return this; }

    /** Most replies per rollout; default 10. */
    public Builder maxTurns(int v) {
      if (v <= 0) {
        throw new IllegalArgumentException("maxTurns must be > 0, got " + v);
      }
      maxTurns = v;
      return this;
    }

    /** Most tokens in the whole conversation (prompts and replies); default 4096. */
    public Builder maxTokens(int v) {
      if (v <= 0) {
        throw new IllegalArgumentException("maxTokens must be > 0, got " + v);
      }
      maxTokens = v;
      return this;
    }

    /**
     * A tool the loop answers itself: a valid call ends the rollout (e.g. {@code complete_task}
     * with the final answer as argument). It is shown to the model beside the toolset's tools.
     */
    public Builder finishTool(ToolSpec v) { finishTool = v; return this; }

    public AgentLoop build() {
      return new AgentLoop(this);
    }
  }
}
