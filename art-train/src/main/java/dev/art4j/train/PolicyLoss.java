package dev.art4j.train;

import ai.djl.ndarray.NDArray;

/**
 * The GRPO objective of one micro-batch on DJL NDArrays (formulas on {@link LossType}). All
 * normalisers are folded into per-token and per-sequence weights computed over the whole step
 * beforehand, so summing micro-batch losses (gradient accumulation) gives the step's loss exactly.
 *
 * <p>Shapes: B sequences, T positions (right-padded). Unsampled and padding positions have
 * {@code mask = 0} and {@code tokenWeight = 0}; their {@code oldLogp} must be finite (0).
 */
final class PolicyLoss {

  /**
   * @param newLogp      (B, T) log-probs of the taken tokens under the current policy (carries the graph)
   * @param oldLogp      (B, T) log-probs recorded at sampling time
   * @param mask         (B, T) 1 at sampled positions, else 0
   * @param advantage    (B, 1) the sequence's advantage
   * @param tokenWeight  (B, T) aggregation weight of each token (also used for the KL term)
   * @param seqWeight    (B, 1) aggregation weight of each sequence (GSPO)
   * @param invCount     (B, 1) 1 / sampled-token count (GSPO)
   * @param refLogp      (B, T) base-model log-probs for the KL term, or null
   */
  record Inputs(NDArray newLogp, NDArray oldLogp, NDArray mask, NDArray advantage, NDArray tokenWeight,
      NDArray seqWeight, NDArray invCount, NDArray refLogp) {}

  /**
   * @param loss        scalar, differentiable
   * @param policyLoss  the policy part of {@code loss}
   * @param kl          {@code sum(tokenWeight * k3)}, 0 without a reference
   * @param clipped     number of sampled tokens (sequences for GSPO) whose ratio lay outside the clip range
   * @param ratioSum    sum of ratios over sampled tokens (sequences for GSPO)
   */
  record Output(NDArray loss, float policyLoss, float kl, float clipped, float ratioSum) {}

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

  Output compute(Inputs in) {
    NDArray mask = in.mask();
    NDArray a = in.advantage();
    // zero at unsampled positions, so ratio = 1 there (and their weight is 0 anyway)
    NDArray logRatio = in.newLogp().sub(in.oldLogp()).mul(mask); // (B, T)
    NDArray policy;
    NDArray outside;
    NDArray ratioSum;
    if (type == LossType.GSPO) {
      NDArray seqRatio = logRatio.sum(new int[] {1}, true).mul(in.invCount()).exp(); // (B, 1)
      NDArray l = surrogate(seqRatio, a); // (B, 1)
      policy = l.mul(in.seqWeight()).sum();
      NDArray detached = seqRatio.stopGradient();
      outside = detached.lt(lo).logicalOr(detached.gt(hi)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).sum();
      ratioSum = detached.sum();
    } else {
      NDArray ratio = logRatio.exp(); // (B, T)
      NDArray l;
      if (type == LossType.CISPO) {
        NDArray coef = ratio.stopGradient().clip(lo, hi);
        l = coef.mul(a).mul(in.newLogp()).neg();
      } else {
        l = surrogate(ratio, a);
      }
      policy = l.mul(in.tokenWeight()).sum();
      NDArray detached = ratio.stopGradient();
      outside = detached.lt(lo).logicalOr(detached.gt(hi)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
          .mul(mask).sum();
      ratioSum = detached.mul(mask).sum();
    }
    NDArray loss = policy;
    float kl = 0f;
    if (in.refLogp() != null) {
      // k3 estimator of KL(new || ref): exp(ref - new) - (ref - new) - 1, >= 0
      NDArray d = in.refLogp().sub(in.newLogp()).mul(mask);
      NDArray k3 = d.exp().sub(d).sub(1f);
      NDArray klSum = k3.mul(in.tokenWeight()).sum();
      kl = klSum.getFloat();
      if (klCoef != 0f) {
        loss = loss.add(klSum.mul(klCoef));
      }
    }
    return new Output(loss, policy.getFloat(), kl, outside.getFloat(), ratioSum.getFloat());
  }

  /** {@code -min(r * A, clip(r, lo, hi) * A)}, element-wise. */
  private NDArray surrogate(NDArray ratio, NDArray a) {
    NDArray unclipped = ratio.mul(a);
    NDArray clipped = ratio.clip(lo, hi).mul(a);
    return unclipped.minimum(clipped).neg();
  }
}
