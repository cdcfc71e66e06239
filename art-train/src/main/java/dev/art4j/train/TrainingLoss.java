package dev.art4j.train;

import ai.djl.ndarray.NDArray;

/**
 * What a trainer minimises on one micro-batch, from the new log-probs of its trained tokens. The
 * per-token normalisers are already folded into {@link MicroBatch.Tensors#weight()} (see
 * {@link LossType#tokenWeight}), so the micro-batch losses of a step simply add up.
 */
interface TrainingLoss {

  /** Whether {@link #compute} needs the base model's log-probs (the KL reference). */
  boolean needsReference();

  /**
   * @param t       the micro-batch
   * @param newLogp (K) log-probs of its trained tokens under the adapter (carries the graph)
   * @param refLogp (K) base-model log-probs, or null unless {@link #needsReference()}
   * @param sums    where the loss adds the figures it reports (summed over micro-batches)
   * @return the differentiable scalar loss
   */
  NDArray compute(MicroBatch.Tensors t, NDArray newLogp, NDArray refLogp, StepSums sums);
}
