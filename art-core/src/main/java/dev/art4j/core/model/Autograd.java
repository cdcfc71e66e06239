package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Back-propagation from a non-scalar output with a given upstream gradient, as PyTorch's
 * {@code torch.autograd.backward(output, grad)}:
 *
 * <pre>
 *   dL/dp += (d output / d p)^T grad      for every leaf p that requires gradients
 * </pre>
 *
 * DJL's {@code GradientCollector.backward} takes a scalar only, and {@code backward(sum(output * grad))}
 * gives the same gradients for three more passes over {@code output}: the product, its sum, and
 * the product's own backward. Checkpointed backward walks (a layer, or a piece of one, at a time)
 * do this for every layer's output and for the MLP's (tokens, 4864) intermediates, so the passes
 * add up. Must run inside a {@code GradientCollector}, on the PyTorch engine (the only one here).
 */
final class Autograd {

  private Autograd() {}

  /**
   * @param output any shape, recorded in the graph
   * @param grad dL/d output, same shape and dtype
   * @param keepGraph whether the graph stays for a later pass through shared parts of it
   */
  static void backward(NDArray output, NDArray grad, boolean keepGraph) {
    JniUtils.backward((PtNDArray) output, (PtNDArray) grad, keepGraph, false);
  }
}
