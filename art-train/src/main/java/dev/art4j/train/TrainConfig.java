package dev.art4j.train;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.art4j.core.model.ModelConfig;

/**
 * Options of the GRPO and SFT trainers. Build with {@link #builder()}; every field has a default.
 *
 * <p>The optimiser is AdamW exactly as PyTorch's {@code torch.optim.AdamW}, after clipping the
 * global gradient norm to {@code maxGradNorm}, on the LoRA parameters only ({@code beta1},
 * {@code beta2}, {@code adamEps}, {@code weightDecay}; the update formula is on the trainer's
 * {@code AdamW}).
 *
 * @param lossType            the policy objective (GRPO only)
 * @param epsilon             lower clip width; NaN = the loss type's default
 * @param epsilonHigh         upper clip width; NaN = the loss type's default (PPO and Dr. GRPO: {@code epsilon})
 * @param scaleRewards        divide advantages by the group's population std + 1e-6 (ignored by Dr. GRPO)
 * @param klCoef              weight of the k3 KL penalty to the base model; 0 = off (no reference pass)
 * @param maxCompletionTokens Dr. GRPO's normaliser; 0 = the longest sampled-token count of the batch
 * @param learningRate        peak learning rate
 * @param beta1               AdamW first-moment decay
 * @param beta2               AdamW second-moment decay
 * @param adamEps             AdamW denominator epsilon
 * @param weightDecay         decoupled weight decay
 * @param maxGradNorm         global gradient-norm clip; 0 or less = no clipping
 * @param schedule            learning-rate schedule
 * @param warmupSteps         steps of linear warm-up
 * @param tokenBudget         most tokens (padding included) in one forward/backward micro-batch
 * @param seed                seeds LoRA dropout; step {@code s} runs with seed {@code seed + s}
 * @param activationCheckpointing fraction of the layers, from the first, whose activations are not
 *                            kept for backward but recomputed from the layer's input (same
 *                            gradients): 0 = none (fastest), 1 = all (activation memory of one layer
 *                            instead of all, for one more forward of compute); {@code null} (the
 *                            default) = auto: on the CPU the fewest layers that let the micro-batch's
 *                            activations fit in half the memory available at each step (none on a
 *                            machine with room), half the layers on other devices
 * @param selectiveCheckpointing whether the other layers recompute in backward their attention
 *                            probabilities and MLP activation instead of keeping them (same
 *                            gradients; ~40% less activation memory for 7% of a step on
 *                            Qwen2.5-0.5B's shape); {@code null} (the default) = auto: off where
 *                            every layer fits whole in the memory above, else on (on devices
 *                            other than the CPU: on)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainConfig(
    @JsonProperty("loss_type") LossType lossType,
    @JsonProperty("epsilon") double epsilon,
    @JsonProperty("epsilon_high") double epsilonHigh,
    @JsonProperty("scale_rewards") boolean scaleRewards,
    @JsonProperty("kl_coef") double klCoef,
    @JsonProperty("max_completion_tokens") int maxCompletionTokens,
    @JsonProperty("learning_rate") double learningRate,
    @JsonProperty("beta1") double beta1,
    @JsonProperty("beta2") double beta2,
    @JsonProperty("adam_eps") double adamEps,
    @JsonProperty("weight_decay") double weightDecay,
    @JsonProperty("max_grad_norm") double maxGradNorm,
    @JsonProperty("schedule") LrSchedule schedule,
    @JsonProperty("warmup_steps") int warmupSteps,
    @JsonProperty("token_budget") int tokenBudget,
    @JsonProperty("seed") long seed,
    @JsonProperty("activation_checkpointing") Double activationCheckpointing,
    @JsonProperty("selective_checkpointing") Boolean selectiveCheckpointing) {

  public TrainConfig {
    if (lossType == null) {
      lossType = LossType.CISPO;
    }
    if (schedule == null) {
      schedule = LrSchedule.CONSTANT;
    }
    require(Double.isNaN(epsilon) || epsilon >= 0, "epsilon must be >= 0, got " + epsilon);
    require(Double.isNaN(epsilonHigh) || epsilonHigh >= 0, "epsilon_high must be >= 0, got " + epsilonHigh);
    require(klCoef >= 0, "kl_coef must be >= 0, got " + klCoef);
    require(maxCompletionTokens >= 0, "max_completion_tokens must be >= 0, got " + maxCompletionTokens);
    require(learningRate >= 0, "learning_rate must be >= 0, got " + learningRate);
    require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
    require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
    require(adamEps > 0, "adam_eps must be > 0, got " + adamEps);
    require(weightDecay >= 0, "weight_decay must be >= 0, got " + weightDecay);
    require(warmupSteps >= 0, "warmup_steps must be >= 0, got " + warmupSteps);
    require(tokenBudget > 0, "token_budget must be > 0, got " + tokenBudget);
    require(activationCheckpointing == null || (activationCheckpointing >= 0 && activationCheckpointing <= 1),
        "activation_checkpointing must be in [0, 1] or null (auto), got " + activationCheckpointing);
  }

  /**
   * What a step recomputes for {@code tokens}-token micro-batches of a model with {@code base}
   * weights on {@code device}: the fixed settings, or auto ({@link ActivationMemory}) for those left null.
   */
  ActivationMemory.Plan checkpointing(ModelConfig model, int tokens, DataType base, Device device) {
    return ActivationMemory.plan(model, tokens, activationCheckpointing, selectiveCheckpointing, base, device);
  }

  /** The defaults: CISPO, lr 1e-5, AdamW (0.9, 0.999, 1e-8, no decay), grad norm 1, 4096-token micro-batches. */
  public static TrainConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.lossType = lossType;
    b.epsilon = epsilon;
    b.epsilonHigh = epsilonHigh;
    b.scaleRewards = scaleRewards;
    b.klCoef = klCoef;
    b.maxCompletionTokens = maxCompletionTokens;
    b.learningRate = learningRate;
    b.beta1 = beta1;
    b.beta2 = beta2;
    b.adamEps = adamEps;
    b.weightDecay = weightDecay;
    b.maxGradNorm = maxGradNorm;
    b.schedule = schedule;
    b.warmupSteps = warmupSteps;
    b.tokenBudget = tokenBudget;
    b.seed = seed;
    b.activationCheckpointing = activationCheckpointing;
    b.selectiveCheckpointing = selectiveCheckpointing;
    return b;
  }

  /** The lower clip width in effect. */
  public double effectiveEpsilon() {
    return Double.isNaN(epsilon) ? lossType.defaultEpsilon() : epsilon;
  }

  /** The upper clip width in effect. */
  public double effectiveEpsilonHigh() {
    if (!Double.isNaN(epsilonHigh)) {
      return epsilonHigh;
    }
    if ((lossType == LossType.PPO || lossType == LossType.DR_GRPO) && !Double.isNaN(epsilon)) {
      return epsilon;
    }
    return lossType.defaultEpsilonHigh();
  }

  /** Whether advantages are divided by the group std (never for Dr. GRPO). */
  public boolean effectiveScaleRewards() {
    return scaleRewards && lossType != LossType.DR_GRPO;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("TrainConfig: " + message);
    }
  }

  /** Builder for {@link TrainConfig}. */
  public static final class Builder {
    private LossType lossType = LossType.CISPO;
    private double epsilon = Double.NaN;
    private double epsilonHigh = Double.NaN;
    private boolean scaleRewards = true;
    private double klCoef = 0.0;
    private int maxCompletionTokens = 0;
    private double learningRate = 1e-5;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double adamEps = 1e-8;
    private double weightDecay = 0.0;
    private double maxGradNorm = 1.0;
    private LrSchedule schedule = LrSchedule.CONSTANT;
    private int warmupSteps = 0;
    private int tokenBudget = 4096;
    private long seed = 0;
    private Double activationCheckpointing;
    private Boolean selectiveCheckpointing;

    private Builder() {}

    public Builder lossType(LossType v) { lossType = v; return this; }
    public Builder epsilon(double v) { epsilon = v; return this; }
    public Builder epsilonHigh(double v) { epsilonHigh = v; return this; }
    public Builder scaleRewards(boolean v) { scaleRewards = v; return this; }
    public Builder klCoef(double v) { klCoef = v; return this; }
    public Builder maxCompletionTokens(int v) { maxCompletionTokens = v; return this; }
    public Builder learningRate(double v) { learningRate = v; return this; }
    public Builder betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }
    public Builder adamEps(double v) { adamEps = v; return this; }
    public Builder weightDecay(double v) { weightDecay = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    /** Linear warm-up over {@code steps} steps, then constant. */
    public Builder linearWarmup(int steps) { schedule = LrSchedule.LINEAR_WARMUP; warmupSteps = steps; return this; }
    public Builder schedule(LrSchedule v) { schedule = v; return this; }
    public Builder tokenBudget(int v) { tokenBudget = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    /** A fixed fraction of the layers in [0, 1], or null for auto (the default). */
    public Builder activationCheckpointing(Double v) { activationCheckpointing = v; return this; }
    /** Whether the layers not checkpointed recompute their attention probabilities and MLP activation, or null for auto (the default). */
    public Builder selectiveCheckpointing(Boolean v) { selectiveCheckpointing = v; return this; }

    public TrainConfig build() {
      return new TrainConfig(lossType, epsilon, epsilonHigh, scaleRewards, klCoef, maxCompletionTokens,
          learningRate, beta1, beta2, adamEps, weightDecay, maxGradNorm, schedule, warmupSteps, tokenBudget, seed,
          activationCheckpointing, selectiveCheckpointing);
    }
  }
}
