package dev.art4j.rollout.engine;

import java.util.List;
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
 */
public record SamplingParams(
    double temperature,
    double topP,
    int topK,
    int maxNewTokens,
    List<Integer> stopTokenIds,
    List<String> stopStrings,
    boolean ignoreEos,
    OptionalLong seed) {

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

    public SamplingParams build() {
      return new SamplingParams(temperature, topP, topK, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed);
    }
  }
}
