package dev.art4j.rollout.completion;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * How to sample a completion. Build with {@link #builder()}; defaults: temperature 1, top-p 1,
 * top-k 0 (off), 256 new tokens, stop at the model's end-of-sequence ids, no seed.
 *
 * <p>Sampling from logits {@code z}: {@code p = softmax(z / temperature)}; top-k keeps the k most
 * likely ids, top-p the smallest set whose mass reaches p; temperature 0 is greedy (argmax).
 *
 * @param temperature   0 = greedy
 * @param topP          nucleus mass in (0, 1]
 * @param topK          0 = off
 * @param maxNewTokens  upper bound on sampled tokens (> 0)
 * @param stopTokenIds  extra ids that end the completion (included in the output)
 * @param stopStrings   texts that end the completion once decoded output contains them
 * @param ignoreEos     keep sampling past end-of-sequence ids
 * @param seed          a fixed seed gives the same tokens for the same request, whatever else
 *                      is in the batch
 * @param topLogprobs   how many most likely ids to report at each sampled step (0..20), to a
 *                      {@link TokenListener}
 * @param logitBias     added to the logit of each id before sampling (OpenAI's {@code logit_bias})
 * @param presencePenalty  subtracted from the logit of every id already sampled in this completion
 * @param frequencyPenalty subtracted once per earlier occurrence in this completion
 * @param repetitionPenalty {@code r}: a logit {@code z} of an id in the prompt or the completion
 *                      becomes {@code z / r} if positive, {@code z * r} otherwise (1 = off)
 * @param minTokens     end-of-sequence and stop ids cannot be sampled before this many tokens
 *                      (unless a constraint's text is already complete)
 * @param constraint    which ids may come next (constrained decoding), or null; needs an end:
 *                      not {@code ignoreEos} without stop ids
 *
 * <p>Penalties, bias and {@code minTokens} change the logits before temperature (see
 * {@code LogitsProcessor}); the log-probs returned are those of the distribution actually sampled.
 */
public record SamplingParams(
    double temperature,
    double topP,
    int topK,
    int maxNewTokens,
    List<Integer> stopTokenIds,
    List<String> stopStrings,
    boolean ignoreEos,
    OptionalLong seed,
    int topLogprobs,
    Map<Integer, Float> logitBias,
    double presencePenalty,
    double frequencyPenalty,
    double repetitionPenalty,
    int minTokens,
    TokenConstraint constraint) {

  /** The most top log-probs a request may ask for (OpenAI's limit). */
  public static final int MAX_TOP_LOGPROBS = 20;

  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
    }
    if (maxNewTokens <= 0) {
      throw new IllegalArgumentException("maxNewTokens must be > 0, got " + maxNewTokens);
    }
    stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
    stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    seed = seed == null ? OptionalLong.empty() : seed;
    if (topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
      throw new IllegalArgumentException("topLogprobs must be in 0.." + MAX_TOP_LOGPROBS + ", got " + topLogprobs);
    }
    logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
    for (Float b : logitBias.values()) {
      if (!Float.isFinite(b)) {
        throw new IllegalArgumentException("logitBias values must be finite, got " + b);
      }
    }
    if (!Double.isFinite(presencePenalty) || !Double.isFinite(frequencyPenalty)) {
      throw new IllegalArgumentException("presence and frequency penalties must be finite");
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException("repetitionPenalty must be > 0, got " + repetitionPenalty);
    }
    if (minTokens < 0) {
      throw new IllegalArgumentException("minTokens must be >= 0, got " + minTokens);
    }
    if (constraint != null && ignoreEos && stopTokenIds.isEmpty()) {
      throw new IllegalArgumentException("a constraint ends the completion with an end-of-sequence or stop id: "
          + "ignoreEos needs stopTokenIds then");
    }
  }

  /** Whether any penalty, bias, minimum length or constraint changes the logits before sampling. */
  public boolean processesLogits() {
    return !logitBias.isEmpty() || presencePenalty != 0 || frequencyPenalty != 0 || repetitionPenalty != 1 || minTokens > 0
        || constraint != null;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Greedy decoding of at most {@code maxNewTokens}. */
  public static SamplingParams greedy(int maxNewTokens) {
    return builder().temperature(0).maxNewTokens(maxNewTokens).build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.temperature = temperature;
    b.topP = topP;
    b.topK = topK;
    b.maxNewTokens = maxNewTokens;
    b.stopTokenIds = stopTokenIds;
    b.stopStrings = stopStrings;
    b.ignoreEos = ignoreEos;
    b.seed = seed;
    b.topLogprobs = topLogprobs;
    b.logitBias = logitBias;
    b.presencePenalty = presencePenalty;
    b.frequencyPenalty = frequencyPenalty;
    b.repetitionPenalty = repetitionPenalty;
    b.minTokens = minTokens;
    b.constraint = constraint;
    return b;
  }

  /** Builder for {@link SamplingParams}. */
  public static final class Builder {
    private double temperature = 1.0;
    private double topP = 1.0;
    private int topK = 0;
    private int maxNewTokens = 256;
    private List<Integer> stopTokenIds = List.of();
    private List<String> stopStrings = List.of();
    private boolean ignoreEos = false;
    private OptionalLong seed = OptionalLong.empty();
    private int topLogprobs;
    private Map<Integer, Float> logitBias = Map.of();
    private double presencePenalty;
    private double frequencyPenalty;
    private double repetitionPenalty = 1;
    private int minTokens;
    private TokenConstraint constraint;

    private Builder() {}

    public Builder temperature(double v) { temperature = v; return this; }
    public Builder topP(double v) { topP = v; return this; }
    public Builder topK(int v) { topK = v; return this; }
    public Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
    public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
    public Builder stopStrings(List<String> v) { stopStrings = v; return this; }
    public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
    public Builder seed(long v) { seed = OptionalLong.of(v); return this; }
    public Builder noSeed() { seed = OptionalLong.empty(); return this; }
    public Builder topLogprobs(int v) { topLogprobs = v; return this; }
    public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
    public Builder presencePenalty(double v) { presencePenalty = v; return this; }
    public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
    public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
    public Builder minTokens(int v) { minTokens = v; return this; }
    /** Constrained decoding (null = none); see {@link TokenConstraint}. */
    public Builder constraint(TokenConstraint v) { constraint = v; return this; }

    public SamplingParams build() {
      return new SamplingParams(temperature, topP, topK, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed,
          topLogprobs, logitBias, presencePenalty, frequencyPenalty, repetitionPenalty, minTokens,
          constraint);
    }
  }
}
