package dev.art4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * The GRPO objective of one micro-batch on DJL NDArrays (formulas on {@link LossType}), over the
 * K sampled tokens of its sequences, flattened. All normalisers are folded into per-token and
 * per-sequence weights computed over the whole step beforehand ({@link LossType#tokenWeight}), so
 * summing the micro-batch losses (gradient accumulation) gives the step's loss exactly.
 */
final class PolicyLoss implements TrainingLoss {

  /**
   * @param newLogp      (K) log-probs of the sampled tokens under the current policy (carries the graph)
   * @param oldLogp      (K) log-probs recorded at sampling time
   * @param advantage    (K) the advantage of each token's sequence
   * @param tokenWeight  (K) aggregation weight of each token (also used for the KL term)
   * @param segments     (B, K) 1 where token k belongs to sequence b (GSPO only, else null)
   * @param seqAdvantage (B, 1) each sequence's advantage (GSPO only)
   * @param seqWeight    (B, 1) aggregation weight of each sequence (GSPO only)
   * @param invCount     (B, 1) 1 / sampled-token count of each sequence (GSPO only)
   * @param refLogp      (K) base-model log-probs for the KL term, or null
   */
  record Inputs(NDArray newLogp, NDArray oldLogp, NDArray advantage, NDArray tokenWeight, NDArray segments,
      NDArray seqAdvantage, NDArray seqWeight, NDArray invCount, NDArray refLogp) {}

  /**
   * @param loss        scalar, differentiable
   * @param policyLoss  the policy part of {@code loss}
   * @param kl          {@code sum(tokenWeight * k3)}, 0 without a reference
   * @param clipped     tokens (sequences for GSPO) whose ratio lay outside the clip range
   * @param ratioSum    sum of ratios over tokens (sequences for GSPO)
   * @param logRatioAbsSum {@code sum_k |newLogp_k - oldLogp_k|} over tokens, before any clamp: 0
   *                    on-policy whatever the loss type, so it shows whether trainer and sampler
   *                    agree on the distribution (temperature, weights, numerics)
   */
  record Output(NDArray loss, float policyLoss, float kl, float clipped, float ratioSum, float logRatioAbsSum) {}

  /**
   * Log-ratios are clamped to {@code [-MAX_LOG_RATIO, MAX_LOG_RATIO]} before {@code exp} (as verl
   * does): {@code e^88.7} overflows fp32, and {@code exp}'s backward multiplies the upstream
   * gradient by the infinite result, so a single token whose ratio overflowed made the whole
   * gradient NaN even where its branch was clipped (upstream gradient 0, {@code 0 * inf}). A ratio
   * of {@code e^20} is clipped by every loss type anyway; past the bound the token's gradient is 0.
   */
  static final float MAX_LOG_RATIO = 20f;

  private final LossType type;
  private final float lo;
  private final float hi;
  private final float klCoef;

  PolicyLoss(LossType type, double eps, double epsHigh, double klCoef) {
    this.type = type;
    this.lo = (float) (1.0 - eps);
    this.hi = (float) (1.0 + epsHigh);
    this.klCoef = (float) klCoef;
  }

  PolicyLoss(TrainConfig c) {
    this(c.lossType(), c.effectiveEpsilon(), c.effectiveEpsilonHigh(), c.klCoef());
  }

  LossType type() {
    return type;
  }

  @Override
  public boolean needsReference() {
    return klCoef > 0;
  }

  /**
   * {@link #compute(Inputs)} on a micro-batch; reports {@code policy_loss}, {@code kl},
   * {@code clipped}, {@code ratio_sum} and {@code ratio_count} (tokens, sequences for GSPO), and
   * {@code log_ratio_abs_sum} over tokens.
   */
  @Override
  public NDArray compute(MicroBatch.Tensors t, NDArray newLogp, NDArray refLogp, StepSums sums) {
    Output out = compute(t.lossInputs(newLogp, refLogp));
    sums.add("policy_loss", out.policyLoss());
    sums.add("kl", out.kl());
    sums.add("clipped", out.clipped());
    sums.add("ratio_sum", out.ratioSum());
    sums.add("ratio_count", type == LossType.GSPO ? t.seqWeight().getShape().get(0) : newLogp.getShape().get(0));
    sums.add("log_ratio_abs_sum", out.logRatioAbsSum());
    return out.loss();
  }

  Output compute(Inputs in) {
    // the statistics stay on the device and come back in one transfer at the end
    NDArray logRatioAbsSum = in.newLogp().stopGradient().sub(in.oldLogp()).abs().sum();
    NDArray logRatio = in.newLogp().sub(in.oldLogp()).clip(-MAX_LOG_RATIO, MAX_LOG_RATIO); // (K)
    NDArray policy;
    NDArray ratio;
    if (type == LossType.GSPO) {
      NDArray seqLog = in.segments().matMul(logRatio.expandDims(1)).mul(in.invCount()); // (B, 1)
      ratio = seqLog.exp();
      policy = surrogate(ratio, in.seqAdvantage()).mul(in.seqWeight()).sum();
    } else {
      ratio = logRatio.exp(); // (K)
      NDArray l;
      if (type == LossType.CISPO) {
        NDArray coef = ratio.stopGradient().clip(lo, hi);
        l = coef.mul(in.advantage()).mul(in.newLogp()).neg();
      } else {
        l = surrogate(ratio, in.advantage());
      }
      policy = l.mul(in.tokenWeight()).sum();
    }
    NDArray detached = ratio.stopGradient();
    NDArray clipped = detached.lt(lo).logicalOr(detached.gt(hi)).toType(DataType.FLOAT32, false).sum();
    NDArray ratioSum = detached.sum();
    NDArray loss = policy;
    NDArray kl = null;
    if (in.refLogp() != null) {
      // k3 estimator of KL(new || ref): exp(ref - new) - (ref - new) - 1, >= 0; d clamped as the
      // log-ratio is (a token the policy has pushed far below the reference overflowed exp)
      NDArray d = in.refLogp().sub(in.newLogp()).clip(-MAX_LOG_RATIO, MAX_LOG_RATIO);
      NDArray klSum = d.exp().sub(d).sub(1f).mul(in.tokenWeight()).sum();
      kl = klSum.stopGradient();
      if (klCoef != 0f) {
        // the coefficient as an array of the step's manager: DJL frees the scalar it makes of a
        // float when mul returns, and mul keeps it for backward (see Transformer)
        loss = loss.add(klSum.mul(klSum.getManager().create(klCoef)));
      }
    }
    NDList stats = new NDList(policy.stopGradient(), kl != null ? kl : ratioSum.zerosLike(), clipped, ratioSum,
        logRatioAbsSum);
    float[] v = NDArrays.stack(stats).toType(DataType.FLOAT32, false).toFloatArray(); // one device-to-host copy
    return new Output(loss, v[0], v[1], v[2], v[3], v[4]);
  }

  /** {@code -min(r * A, clip(r, lo, hi) * A)}, element-wise. */
  private NDArray surrogate(NDArray ratio, NDArray a) {
    NDArray unclipped = ratio.mul(a);
    NDArray clipped = ratio.clip(lo, hi).mul(a);
    return unclipped.minimum(clipped).neg();
  }
}
