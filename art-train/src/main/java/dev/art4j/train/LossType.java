package dev.art4j.train;

/**
 * The policy-gradient objective. Every variant is computed on sampled tokens only (prompt, tool
 * and user tokens are masked out), with the per-token importance ratio
 * {@code r_t = exp(logp_new(t) - logp_old(t))}, where {@code logp_old} is the log-prob recorded
 * when the token was sampled, and the trajectory's advantage {@code A}. {@code sg(x)} stops the
 * gradient and {@code clip(x, lo, hi)} clamps.
 *
 * <p>Aggregation (how token losses become the step's loss), unless the variant says otherwise:
 * each trajectory's tokens are weighted by {@code 1 / n_i} (its sampled-token count), summed, and
 * the sum divided by the number of trajectories trained, {@code N}:
 * {@code L = (1/N) * sum_i (1/n_i) * sum_t l_t}.
 */
public enum LossType {

  /**
   * CISPO (ART's default): {@code l_t = -clip(sg(r_t), 1 - eps, 1 + epsHigh) * A * logp_new(t)}.
   * The clipped ratio only weights the REINFORCE term, so every token keeps a gradient.
   * Defaults {@code eps = 1.0}, {@code epsHigh = 4.0}.
   */
  CISPO(1.0, 4.0),

  /**
   * PPO clipped surrogate: {@code l_t = -min(r_t * A, clip(r_t, 1 - eps, 1 + epsHigh) * A)}.
   * Defaults {@code eps = 0.2}, {@code epsHigh = eps}.
   */
  PPO(0.2, 0.2),

  /**
   * DAPO: the PPO token loss with clip-higher ({@code eps = 0.2}, {@code epsHigh = 0.28}),
   * aggregated as a token-level mean over the whole batch:
   * {@code L = sum_{i,t} l_t / sum_i n_i}, so long trajectories weigh more.
   */
  DAPO(0.2, 0.28),

  /**
   * Dr. GRPO: the PPO token loss, advantages not divided by the group's std (whatever
   * {@code scaleRewards} says), aggregated with a constant normaliser:
   * {@code L = sum_{i,t} l_t / (N * maxCompletionTokens)}, i.e. per group
   * {@code groupSize * maxCompletionTokens}. {@code maxCompletionTokens} comes from the config,
   * or, when unset, is the longest sampled-token count of the batch.
   */
  DR_GRPO(0.2, 0.2),

  /**
   * GSPO: one ratio per sequence, {@code s_i = exp((1/n_i) * sum_t (logp_new(t) - logp_old(t)))},
   * clipped per sequence: {@code l_i = -min(s_i * A, clip(s_i, 1 - eps, 1 + epsHigh) * A)},
   * {@code L = (1/N) * sum_i l_i}. Sequence ratios sit much closer to 1 than token ratios, hence
   * the paper's small defaults {@code eps = 3e-4}, {@code epsHigh = 4e-4}.
   */
  GSPO(3e-4, 4e-4);

  private final double defaultEpsilon;
  private final double defaultEpsilonHigh;

  LossType(double defaultEpsilon, double defaultEpsilonHigh) {
    this.defaultEpsilon = defaultEpsilon;
    this.defaultEpsilonHigh = defaultEpsilonHigh;
  }

  /** The lower clip width {@code eps} this variant uses unless the config sets one. */
  public double defaultEpsilon() {
    return defaultEpsilon;
  }

  /** The upper clip width {@code epsHigh} this variant uses unless the config sets one. */
  public double defaultEpsilonHigh() {
    return defaultEpsilonHigh;
  }

  /**
   * The weight of each token loss of trajectory {@code i} in the step's loss: the normaliser of
   * this variant's aggregation formula above (GSPO's per-sequence {@code 1/N} is applied to its
   * sequence losses, and this weight only to its KL term).
   *
   * @param tokens        {@code n_i}, trajectory i's sampled-token count
   * @param trajectories  {@code N}, trajectories trained this step
   * @param totalTokens   {@code sum_i n_i}
   * @param maxCompletion Dr. GRPO's {@code maxCompletionTokens}
   */
  float tokenWeight(int tokens, int trajectories, long totalTokens, int maxCompletion) {
    return switch (this) {
      case DAPO -> (float) (1.0 / totalTokens); //                            sum_{i,t} l_t / sum_i n_i
      case DR_GRPO -> (float) (1.0 / ((double) trajectories * maxCompletion)); // sum_{i,t} l_t / (N * maxCompletionTokens)
      default -> (float) (1.0 / ((double) tokens * trajectories)); //         (1/N) sum_i (1/n_i) sum_t l_t
    };
  }
}
