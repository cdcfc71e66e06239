package dev.art4j.reward.ruler;

import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.usage.TokenPrices;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.core.usage.UsageMeter;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RULER (Relative Universal LLM-Elicited Rewards): an LLM judge scores all trajectories of a
 * group against each other, so no reward function has to be written. GRPO only needs rewards
 * that rank a group's trajectories correctly, and a judge that sees them side by side ranks
 * better than one that scores each alone.
 *
 * <pre>{@code
 * Ruler ruler = Ruler.builder().judge(chatModel).build();   // any langchain4j ChatModel
 * TrajectoryGroup scored = ruler.score(group).orElseThrow();
 * }</pre>
 *
 * <p>One judge call per group: a system message with the task and the {@linkplain #DEFAULT_RUBRIC
 * rubric}, a user message listing the agent's tools, the messages every trajectory shares
 * (sent once inside {@code <context>}), and each trajectory's remainder inside
 * {@code <trajectory id="N">}. Identical trajectories are shown once and share the score.
 * The judge answers {@code {"scores":[{"trajectory_id","explanation","score"}]}}, constrained by
 * a JSON schema response format when the model declares {@link Capability#RESPONSE_FORMAT_JSON_SCHEMA}
 * (or {@link Builder#jsonSchema} says so). An answer with a missing or unknown id, the wrong
 * count, a score outside [0, 1] or broken JSON is retried with the problem pointed out to the
 * judge; HTTP errors and time-outs are retried as they are (except langchain4j's
 * {@link NonRetriableException}s such as a bad API key). After {@code maxRetries} retries the
 * call fails with a {@link RulerException}.
 *
 * <p>In the scored group: {@code reward} = the judge's score, metric {@code ruler_score} = the
 * same, metric {@code independent_reward} = the reward the trajectory had before, and the log
 * line {@code "RULER explanation: ..."}. Thread-safe: one instance can score many groups at once.
 *
 * <p>Every answered judge call (retries included: they are billed too) adds the prompt and
 * completion tokens of the API's {@code usage} to {@link #usage()}; with {@link Builder#prices}
 * given, {@link #cost()} is what they cost.
 */
public final class Ruler {

  private static final Logger log = LoggerFactory.getLogger(Ruler.class);

  /** The rubric used unless {@link Builder#rubric} gives another (ART's default rubric). */
  public static final String DEFAULT_RUBRIC = """
      - A trajectory that achieves its goal should always get a significantly higher score than a trajectory \
      that does not achieve its goal.
      - A trajectory that achieves its goal more efficiently (eg. by avoiding unproductive detours) should get \
      a higher score than a trajectory that achieves its goal less efficiently.
      - If one trajectory is only slightly better than another, the difference in scores should be small. If it \
      is significantly better, the difference in scores should be large.
      - You may give some partial credit for a trajectory that makes progress towards its goal but does not \
      complete it.""";

  static final ResponseFormat RESPONSE_FORMAT = ResponseFormat.builder()
      .type(ResponseFormatType.JSON)
      .jsonSchema(JsonSchema.builder()
          .name("ruler_scores")
          .rootElement(JsonObjectSchema.builder()
              .addProperty("scores", JsonArraySchema.builder()
                  .items(JsonObjectSchema.builder()
                      .addStringProperty("trajectory_id")
                      .addStringProperty("explanation")
                      .addNumberProperty("score")
                      .required("trajectory_id", "explanation", "score")
                      .additionalProperties(false)
                      .build())
                  .build())
              .required("scores")
              .additionalProperties(false)
              .build())
          .build())
      .build();

  private final ChatModel judge;
  private final String rubric;
  private final int maxRetries;
  private final Duration retryDelay;
  private final boolean swallowExceptions;
  private final boolean useJsonSchema;
  private final int maxConcurrency;
  private final TokenPrices prices;
  private final UsageMeter meter = new UsageMeter();

  private Ruler(Builder b) {
    this.judge = Objects.requireNonNull(b.judge, "judge (a langchain4j ChatModel) is required");
    this.rubric = b.rubric;
    this.maxRetries = b.maxRetries;
    this.retryDelay = b.retryDelay;
    this.swallowExceptions = b.swallowExceptions;
    this.useJsonSchema = b.jsonSchema != null
        ? b.jsonSchema
        : judge.supportedCapabilities().contains(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    this.maxConcurrency = b.maxConcurrency;
    this.prices = b.prices;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The tokens of every answered judge call so far (a snapshot; subtract an earlier one for a step's share). */
  public TokenUsage usage() {
    return meter.total();
  }

  /** The judge's prices per million tokens, if the builder was given them. */
  public Optional<TokenPrices> prices() {
    return Optional.ofNullable(prices);
  }

  /** What {@link #usage()} cost at the builder's prices; NaN without prices. */
  public double cost() {
    return prices == null ? Double.NaN : prices.cost(usage());
  }

  /**
   * Scores a group: a new group whose trajectories carry the judge's scores (see the class
   * comment); the group's exceptions are kept. A group without trajectories comes back as it is.
   *
   * @return the scored group; empty only when {@code swallowExceptions} is set and the judge
   *     failed (the failure is logged), so that the caller can leave the group out of training
   * @throws RulerException when the judge failed and {@code swallowExceptions} is not set
   */
  public Optional<TrajectoryGroup> score(TrajectoryGroup group) {
    if (group.trajectories().isEmpty()) {
      return Optional.of(group);
    }
    List<RulerScore> scores;
    try {
      scores = scores(group.trajectories());
    } catch (RulerException e) {
      if (swallowExceptions) {
        log.warn("RULER: group of {} left unscored: {}", group.size(), e.getMessage());
        return Optional.empty();
      }
      throw e;
    }
    List<Trajectory> out = new ArrayList<>(group.size());
    for (int i = 0; i < group.size(); i++) {
      Trajectory t = group.trajectories().get(i);
      RulerScore s = scores.get(i);
      out.add(t.withMetric("independent_reward", t.reward())
          .withMetric("ruler_score", s.score())
          .withReward(s.score())
          .withLog("RULER explanation: " + s.explanation()));
    }
    return Optional.of(new TrajectoryGroup(out, group.exceptions()));
  }

  /**
   * Scores several groups, up to {@code maxConcurrency} judge calls at a time.
   *
   * @return the scored groups in input order; with {@code swallowExceptions} the groups the
   *     judge failed on are left out
   * @throws RulerException the first group's failure (the others' are attached as suppressed)
   *     when {@code swallowExceptions} is not set
   */
  public List<TrajectoryGroup> scoreAll(List<TrajectoryGroup> groups) {
    if (groups.isEmpty()) {
      return List.of();
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(groups.size(), maxConcurrency), r -> {
      Thread t = new Thread(r, "ruler-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Optional<TrajectoryGroup>>> futures = new ArrayList<>();
      for (TrajectoryGroup g : groups) {
        futures.add(pool.submit(() -> score(g)));
      }
      List<TrajectoryGroup> out = new ArrayList<>(groups.size());
      RulerException failure = null;
      for (Future<Optional<TrajectoryGroup>> f : futures) {
        try {
          f.get().ifPresent(out::add);
        } catch (ExecutionException e) {
          RulerException re = e.getCause() instanceof RulerException r
              ? r : new RulerException("RULER failed: " + e.getCause(), e.getCause());
          if (failure == null) {
            failure = re;
          } else {
            failure.addSuppressed(re);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RulerException("interrupted while waiting for the judge", e);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The judge's scores for one group's trajectories, one per trajectory in group order
   * (ignores {@code swallowExceptions}; the trajectories are not changed).
   *
   * @throws RulerException when every attempt failed
   */
  public List<RulerScore> scores(List<Trajectory> trajectories) {
    if (trajectories.isEmpty()) {
      return List.of();
    }
    JudgePrompt prompt = JudgePrompt.of(trajectories, rubric);
    Map<Integer, JudgeAnswer.Entry> byJudgeId = ask(prompt);
    List<RulerScore> out = new ArrayList<>(trajectories.size());
    for (int i = 0; i < trajectories.size(); i++) {
      JudgeAnswer.Entry e = byJudgeId.get(prompt.judgeId(i));
      out.add(new RulerScore(i + 1, e.score(), e.explanation()));
    }
    return List.copyOf(out);
  }

  private Map<Integer, JudgeAnswer.Entry> ask(JudgePrompt prompt) {
    log.debug("RULER prompt ({} trajectories shown):\n{}\n{}", prompt.uniqueCount(), prompt.system, prompt.user);
    List<ChatMessage> base = List.of(SystemMessage.from(prompt.system), UserMessage.from(prompt.user));
    List<ChatMessage> messages = base;
    Exception last = null;
    int attempts = 0;
    for (int attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) {
        pause(attempt);
      }
      attempts++;
      String text;
      try {
        ChatRequest.Builder request = ChatRequest.builder().messages(messages);
        if (useJsonSchema) {
          request.responseFormat(RESPONSE_FORMAT);
        }
        ChatResponse response = judge.chat(request.build());
        record(response);
        text = response.aiMessage() == null ? null : response.aiMessage().text();
      } catch (NonRetriableException e) {
        last = e;
        break;
      } catch (RuntimeException e) {
        last = e;
        log.warn("RULER: judge call {} of {} failed: {}", attempt + 1, maxRetries + 1, e.toString());
        continue;
      }
      log.debug("RULER answer {}: {}", attempt + 1, text);
      try {
        return JudgeAnswer.parse(text, prompt.uniqueCount());
      } catch (JudgeAnswer.Invalid e) {
        last = e;
        log.warn("RULER: judge answer {} of {} rejected: {}", attempt + 1, maxRetries + 1, e.getMessage());
        // show the judge its own answer and what was wrong with it: cheaper than a blind retry
        messages = new ArrayList<>(base);
        messages.add(AiMessage.from(text == null ? "" : text));
        messages.add(UserMessage.from("That answer cannot be used: " + e.getMessage() + ". Answer again with JSON"
            + " only: exactly " + prompt.uniqueCount() + " entries in \"scores\", trajectory_id \"1\" to \""
            + prompt.uniqueCount() + "\", each score a number from 0 to 1."));
      }
    }
    String hint = last instanceof InvalidRequestException && useJsonSchema
        ? " (if the endpoint rejects JSON schema response formats, build the Ruler with jsonSchema(false))"
        : "";
    throw new RulerException("RULER judge failed after " + attempts + " attempt" + (attempts == 1 ? "" : "s")
        + ": " + describe(last) + hint, last);
  }

  private void record(ChatResponse response) {
    dev.langchain4j.model.output.TokenUsage u = response.tokenUsage();
    meter.record(u == null || u.inputTokenCount() == null ? 0 : u.inputTokenCount(),
        u == null || u.outputTokenCount() == null ? 0 : u.outputTokenCount());
  }

  private static String describe(Exception e) {
    if (e instanceof JudgeAnswer.Invalid) {
      return "invalid answer: " + e.getMessage();
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private void pause(int attempt) {
    long ms = retryDelay.toMillis() << Math.min(attempt - 1, 6); // exponential back-off
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RulerException("interrupted while waiting to retry the judge", e);
    }
  }

  /** Options of a {@link Ruler}; only {@link #judge} is required. */
  public static final class Builder {
    private ChatModel judge;
    private String rubric = DEFAULT_RUBRIC;
    private int maxRetries = 2;
    private Duration retryDelay = Duration.ofSeconds(1);
    private boolean swallowExceptions;
    private Boolean jsonSchema;
    private int maxConcurrency = 8;
    private TokenPrices prices;

    private Builder() {}

    /** The judge: any langchain4j chat model (OpenAI-compatible endpoint, Anthropic, Ollama, local policy). */
    public Builder judge(ChatModel judge) {
      this.judge = Objects.requireNonNull(judge, "judge");
      return this;
    }

    /** Grading standards replacing {@link #DEFAULT_RUBRIC}. */
    public Builder rubric(String rubric) {
      if (rubric == null || rubric.isBlank()) {
        throw new IllegalArgumentException("rubric must not be empty");
      }
      this.rubric = rubric;
      return this;
    }

    /** Further attempts after a failed judge call or an unusable answer (default 2). */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** Wait before the first retry, doubled for each further one (default 1 s). */
    public Builder retryDelay(Duration retryDelay) {
      if (retryDelay.isNegative()) {
        throw new IllegalArgumentException("retryDelay must not be negative");
      }
      this.retryDelay = retryDelay;
      return this;
    }

    /** When set, a group the judge fails on comes back as an empty {@code Optional} instead of a throw. */
    public Builder swallowExceptions(boolean swallowExceptions) {
      this.swallowExceptions = swallowExceptions;
      return this;
    }

    /**
     * Whether to request a JSON schema response format. Default: when the judge declares
     * {@link Capability#RESPONSE_FORMAT_JSON_SCHEMA}. Endpoints that reject the field need {@code false}.
     */
    public Builder jsonSchema(boolean jsonSchema) {
      this.jsonSchema = jsonSchema;
      return this;
    }

    /** Most judge calls in flight at once in {@link Ruler#scoreAll} (default 8). */
    public Builder maxConcurrency(int maxConcurrency) {
      if (maxConcurrency < 1) {
        throw new IllegalArgumentException("maxConcurrency must be >= 1, got " + maxConcurrency);
      }
      this.maxConcurrency = maxConcurrency;
      return this;
    }

    /** The judge's prices per million prompt and completion tokens, for {@link Ruler#cost()}. */
    public Builder prices(TokenPrices prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    /** As {@link #prices(TokenPrices)}: e.g. {@code prices(0.40, 1.60)} dollars per million tokens in and out. */
    public Builder prices(double inputPerMillion, double outputPerMillion) {
      return prices(new TokenPrices(inputPerMillion, outputPerMillion));
    }

    public Ruler build() {
      return new Ruler(this);
    }
  }
}
