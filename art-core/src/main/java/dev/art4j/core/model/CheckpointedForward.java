package dev.art4j.core.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

/**
 * A training forward with activation checkpointing ({@link Transformer#checkpointed}): the layers
 * ran once without a graph, keeping only each layer's input {@code x_l} (B, T, D); the head
 * (final norm and whatever the loss does with it) is recorded from a leaf copy of the last
 * layer's output, and {@link #backward} walks the layers from the last:
 *
 * <pre>
 *   g_L = dloss/dx_L                                        (backward of the loss)
 *   for l = L-1 .. 0:  y = layer_l(x_l) with a graph;  backward of sum(y * g_{l+1})
 *                      (accumulates the layer's LoRA gradients; g_l = dloss/dx_l)
 * </pre>
 *
 * The recomputed layer sees the same input, so it is the same function and the gradients are
 * those of the plain forward; with LoRA dropout each layer is seeded the same way in both runs, so
 * it draws the same mask. Memory: L inputs of (B, T, D) plus one layer's graph, instead of every
 * layer's; cost: one more forward. Every array lives in the manager of the input ids.
 */
public final class CheckpointedForward {

  private final Transformer model;
  private final Transformer.Context context;
  private final Lora adapter;
  private final NDArray[] inputs; // x_l (B, T, D), no graph
  private final int seed; // base of the per-layer dropout seeds; 0 when no dropout
  private NDArray leaf; // x_L, requires gradients once hidden() is called
  private boolean recorded;

  CheckpointedForward(Transformer model, Transformer.Context context, NDArray embedded, Lora adapter) {
    this.model = model;
    this.context = context;
    this.adapter = adapter;
    int layers = model.config().numHiddenLayers();
    this.inputs = new NDArray[layers];
    this.seed = dropout() ? 1 + embedded.getManager()
        .randomInteger(0, Integer.MAX_VALUE / 2, new Shape(1), DataType.INT32).getInt(0) : 0;
    NDArray x = embedded;
    for (int l = 0; l < layers; l++) {
      inputs[l] = x;
      seedLayer(l);
      x = model.layer(x, l, context, null, adapter);
    }
    this.leaf = x;
  }

  /**
   * The final normed hidden states (B, T, D). Call inside the {@link GradientCollector} that
   * {@link #backward} gets, and build the loss from the result.
   */
  public NDArray hidden() {
    NDArray out = leaf.stopGradient();
    leaf.close();
    leaf = out;
    leaf.setRequiresGradient(true);
    recorded = true;
    return model.norm(leaf);
  }

  /**
   * Back-propagates {@code loss} (a scalar built from {@link #hidden()} inside {@code collector})
   * into the adapter's parameters, layer by layer; afterwards only the adapter's gradients remain.
   */
  public void backward(GradientCollector collector, NDArray loss) {
    if (!recorded) {
      throw new IllegalStateException("build the loss from hidden() before backward");
    }
    collector.backward(loss);
    NDArray grad = leaf.getGradient(); // (B, T, D)
    for (int l = inputs.length - 1; l >= 0; l--) {
      NDArray next;
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray x = inputs[l].stopGradient();
        if (l > 0) {
          x.setRequiresGradient(true); // the embedding is not trained: no gradient below layer 0
        }
        seedLayer(l);
        NDArray y = model.layer(x, l, context, null, adapter);
        collector.backward(y.mul(grad).sum());
        // layer() hands y over unregistered, so this scope would not close it; left open, it kept
        // its layer's saved activations alive after backward (measured: +150 MB per layer)
        y.close();
        next = l > 0 ? x.getGradient() : null;
        if (next != null) {
          NDScope.unregister(next);
        }
      }
      grad.close();
      inputs[l].close();
      grad = next;
    }
    leaf.close();
  }

  private boolean dropout() {
    return adapter != null && adapter.isTraining() && adapter.config().dropout() > 0;
  }

  private void seedLayer(int l) {
    if (seed != 0) {
      Engine.getInstance().setRandomSeed(seed + l);
    }
  }
}
