package dev.art4j.train;

import ai.djl.ndarray.NDArray;

/**
 * SFT's loss: the cross-entropy of the trained (assistant) tokens,
 * {@code L = -sum_k w_k * logp(t_k)} with {@code w_k = 1 / (assistant tokens of the batch)}, i.e.
 * the mean negative log-likelihood over the batch's assistant tokens.
 */
final class CrossEntropyLoss implements TrainingLoss {

  @Override
  public boolean needsReference() {
    return false;
  }

  @Override
  public NDArray compute(MicroBatch.Tensors t, NDArray newLogp, NDArray refLogp, StepSums sums) {
    return newLogp.mul(t.weight()).sum().neg();
  }
}
