package dev.art4j.core.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;

/**
 * A training forward with activation checkpointing of the first {@code k} layers
 * ({@link Transformer#checkpointed}). Those layers ran once without a graph, keeping only each
 * one's input {@code x_l} (B, T, D); {@link #hidden()} runs the other layers from a leaf copy of
 * {@code x_k} with their graph, as a plain forward does, then the final norm; {@link #backward}
 * back-propagates the loss to that leaf and then walks the checkpointed layers from the last:
 *
 * <pre>
 *   g_k = dloss/dx_k                                        (backward of the loss)
 *   for l = k-1 .. 0:  y = layer_l(x_l) with a graph;  backward of sum(y * g_{l+1})
 *                      (accumulates the layer's LoRA gradients; g_l = dloss/dx_l)
 * </pre>
 *
 * The recomputed layer sees the same input, so it is the same function and the gradients are
 * those of the plain forward; with LoRA dropout each layer is seeded the same way in both runs, so
 * it draws the same mask. Memory: the activations of {@code L - k} layers plus one, and {@code k}
 * inputs; cost: {@code k / L} of a forward more. Every array lives in the manager of the input ids.
 */
public final class CheckpointedForward {

  private final Transformer model;
  private final Transformer.Context context;
  private final Lora adapter;
  private final NDArray[] inputs; // x_l (B, T, D) of the checkpointed layers, no graph
  private final int seed; // base of the per-layer dropout seeds; 0 when no dropout
  private final boolean selective;
  private final List<SelectiveCheckpoint> selectiveLayers = new ArrayList<>(); // layers k.. when selective
  private final List<NDArray> selectiveInputs = new ArrayList<>(); // their input leaves
  private NDArray leaf; // x_k; requires gradients once hidden() is called
  private NDArray top; // x_L, the last selective layer's output leaf
  private boolean recorded;

  CheckpointedForward(Transformer model, Transformer.Context context, NDArray embedded, Lora adapter, int k,
      boolean selective) {
    int layers = model.config().numHiddenLayers();
    if (k < 0 || k > layers) {
      throw new IllegalArgumentException("checkpointed layers must be in [0, " + layers + "], got " + k);
    }
    this.model = model;
    this.context = context;
    this.adapter = adapter;
    this.inputs = new NDArray[k];
    this.selective = selective;
    this.seed = dropout() ? 1 + embedded.getManager()
        .randomInteger(0, Integer.MAX_VALUE / 2, new Shape(1), DataType.INT32).getInt(0) : 0;
    NDArray x = embedded;
    for (int l = 0; l < k; l++) {
      inputs[l] = x;
      seedLayer(l);
      x = model.layer(x, l, context, null, adapter);
    }
    this.leaf = x;
  }

  /**
   * The final normed hidden states (B, T, D), through the layers that are not checkpointed. Call
   * inside the {@link GradientCollector} that {@link #backward} gets, and build the loss from the
   * result.
   */
  public NDArray hidden() {
    if (recorded) {
      throw new IllegalStateException("hidden() was already called");
    }
    recorded = true;
    int k = inputs.length;
    NDArray out = leaf.stopGradient();
    leaf.close();
    leaf = out;
    if (k > 0 || selective) {
      // the embedding is not trained: no gradient below layer 0, except that selective layers
      // need every piece in a graph (SelectiveCheckpoint)
      leaf.setRequiresGradient(true);
    }
    NDArray x = leaf;
    if (selective) {
      for (int l = k; l < model.config().numHiddenLayers(); l++) {
        seedLayer(l);
        SelectiveCheckpoint layer = new SelectiveCheckpoint(model, context, x, l, adapter);
        selectiveLayers.add(layer);
        selectiveInputs.add(x);
        x = layer.output();
      }
      top = x;
      return model.norm(x);
    }
    for (int l = k; l < model.config().numHiddenLayers(); l++) {
      seedLayer(l);
      NDArray next = model.layer(x, l, context, null, adapter);
      if (x != leaf) {
        x.close(); // autograd keeps what backward needs
      }
      x = next;
    }
    return model.norm(x);
  }

  /**
   * Back-propagates {@code loss} (a scalar built from {@link #hidden()} inside {@code collector})
   * into the adapter's parameters, through the layers hidden() ran, then the checkpointed ones one
   * at a time; afterwards only the adapter's gradients remain.
   */
  public void backward(GradientCollector collector, NDArray loss) {
    if (!recorded) {
      throw new IllegalStateException("build the loss from hidden() before backward");
    }
    collector.backward(loss);
    NDArray grad; // (B, T, D)
    if (!selectiveLayers.isEmpty()) {
      grad = top.getGradient();
      top.close();
      for (int i = selectiveLayers.size() - 1; i >= 0; i--) {
        grad = selectiveLayers.get(i).backward(grad);
        if (i > 0) {
          selectiveInputs.get(i).close();
        }
      }
      if (inputs.length == 0) {
        grad.close(); // dloss/d(embedding), not needed
        grad = null;
      }
    } else {
      grad = inputs.length > 0 ? leaf.getGradient() : null;
    }
    for (int l = inputs.length - 1; l >= 0; l--) {
      NDArray next;
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray x = inputs[l].stopGradient();
        if (l > 0) {
          x.setRequiresGradient(true);
        }
        seedLayer(l);
        NDArray y = model.layer(x, l, context, null, adapter);
        Autograd.backward(y, grad, false); // as collector.backward(sum(y * grad))
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
