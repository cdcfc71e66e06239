package dev.art4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW}, with global gradient-norm clipping, over a fixed
 * list of parameters (the LoRA A/B arrays); step {@code t} of parameter {@code p} with gradient
 * {@code grad} (hyper-parameters from {@link TrainConfig}):
 * <pre>
 * g   = grad * min(1, maxGradNorm / ||grad||_2)          (global norm over all LoRA parameters)
 * p  *= 1 - lr * weightDecay
 * m   = beta1 * m + (1 - beta1) * g
 * v   = beta2 * v + (1 - beta2) * g^2
 * p  -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + adamEps)
 * </pre> The gradients
 * are the ones PyTorch accumulated in the parameters during the step's backward passes; this
 * class reads them, updates the parameters in place (which is what makes the next rollout see
 * the new adapter), and zeroes them for the next step (DJL's collector never does).
 *
 * <p>Moments live in this optimiser's own manager; every temporary of a step goes to the
 * {@code scope} manager the caller closes at the end of the step.
 */
final class AdamW implements AutoCloseable {

  private final List<String> names;
  private final List<NDArray> params;
  private final NDManager manager;
  private final NDArray[] expAvg;
  private final NDArray[] expAvgSq;
  private int steps;

  AdamW(List<String> names, List<NDArray> params, NDManager parent) {
    if (names.size() != params.size()) {
      throw new IllegalArgumentException(names.size() + " names for " + params.size() + " parameters");
    }
    this.names = List.copyOf(names);
    this.params = List.copyOf(params);
    this.manager = parent.newSubManager();
    this.expAvg = new NDArray[params.size()];
    this.expAvgSq = new NDArray[params.size()];
    for (int i = 0; i < params.size(); i++) {
      expAvg[i] = manager.zeros(params.get(i).getShape(), DataType.FLOAT32, params.get(i).getDevice());
      expAvgSq[i] = manager.zeros(params.get(i).getShape(), DataType.FLOAT32, params.get(i).getDevice());
    }
  }

  /** The first and second moments, parameter by parameter (tests check their device and dtype). */
  List<NDArray> state() {
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      out.add(expAvg[i]);
      out.add(expAvgSq[i]);
    }
    return out;
  }

  /** Optimiser steps taken so far ({@code t} of the bias corrections). */
  int steps() {
    return steps;
  }

  /**
   * The global L2 norm of the accumulated gradients, {@code sqrt(sum_p ||grad_p||^2)}; NaN or
   * infinite when a gradient is.
   */
  double gradNorm(NDManager scope) {
    NDArray total = null;
    for (NDArray p : params) {
      NDArray sq = grad(p, scope).square().sum();
      total = total == null ? sq : total.add(sq);
    }
    return total == null ? 0.0 : Math.sqrt(total.toType(DataType.FLOAT64, false).getDouble());
  }

  /**
   * One update with learning rate {@code lr}: clip the gradients to {@code maxGradNorm} (by
   * their global norm), apply AdamW, zero the gradients. A non-finite gradient norm skips the
   * update (moments and step count untouched) but still zeroes the gradients.
   *
   * @return the gradient norm before clipping
   */
  double step(double lr, TrainConfig c, NDManager scope) {
    double norm = gradNorm(scope);
    if (!Double.isFinite(norm)) {
      zeroGradients(scope);
      return norm;
    }
    float clip = c.maxGradNorm() > 0 && norm > c.maxGradNorm() ? (float) (c.maxGradNorm() / (norm + 1e-6)) : 1f;
    steps++;
    double bc1 = 1 - Math.pow(c.beta1(), steps);
    double bc2 = 1 - Math.pow(c.beta2(), steps);
    // libtorch's fused update (one native call per parameter instead of ~12 ops, which matters
    // when each op costs a thread hand-off) computes
    //   p -= lr * wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lrHat * m / (sqrt(v) + epsHat)
    // which is torch's AdamW with lrHat = lr * sqrt(bc2) / bc1 and epsHat = eps * sqrt(bc2);
    // it zeroes the gradient afterwards
    float lrHat = (float) (lr * Math.sqrt(bc2) / bc1);
    float epsHat = (float) (c.adamEps() * Math.sqrt(bc2));
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      NDArray g = grad(p, scope);
      p.getNDArrayInternal().adamUpdate(new NDList(p, g, expAvg[i], expAvgSq[i]), new NDList(p),
          (float) lr, lrHat, (float) c.weightDecay(), clip, -1f, (float) c.beta1(), (float) c.beta2(), epsHat,
          false, true);
    }
    return norm;
  }

  /** Sets every parameter's accumulated gradient to zero, in place. */
  void zeroGradients(NDManager scope) {
    for (NDArray p : params) {
      // in place on the tensor PyTorch accumulates into; NaN-safe, unlike g - g or g * 0
      grad(p, scope).set(new NDIndex("..."), 0f);
    }
  }

  /** Writes the moments as {@code <name>.exp_avg} / {@code <name>.exp_avg_sq} (F32). */
  void save(Path file) throws IOException {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (int i = 0; i < params.size(); i++) {
      tensors.put(names.get(i) + ".exp_avg", expAvg[i]);
      tensors.put(names.get(i) + ".exp_avg_sq", expAvgSq[i]);
    }
    Safetensors.write(file, tensors, Map.of("format", "pt", "optimizer", "adamw", "step", Integer.toString(steps)));
  }

  /** Restores moments written by {@link #save} and the step count (kept in the trainer state). */
  void load(Path file, int stepCount) throws IOException {
    Safetensors st = Safetensors.open(file);
    List<NDArray> loaded = new ArrayList<>();
    try (NDManager tmp = manager.newSubManager()) {
      for (int i = 0; i < params.size(); i++) {
        long[] shape = params.get(i).getShape().getShape();
        for (String suffix : new String[] {".exp_avg", ".exp_avg_sq"}) {
          String name = names.get(i) + suffix;
          if (!st.contains(name)) {
            throw new IOException(file + ": missing optimizer tensor " + name);
          }
          loaded.add(st.load(name, tmp, DataType.FLOAT32, shape));
        }
      }
      for (int i = 0; i < params.size(); i++) {
        copyInto(expAvg[i], loaded.get(2 * i), tmp);
        copyInto(expAvgSq[i], loaded.get(2 * i + 1), tmp);
      }
    }
    this.steps = stepCount;
  }

  /** Bit-exact in-place copy ({@code NDArray.set(Buffer)} would alias a Java buffer instead). */
  static void copyInto(NDArray target, NDArray source, NDManager scope) {
    target.set(new NDIndex("..."), source.toDevice(target.getDevice(), false));
  }

  /** The accumulated gradient of {@code p}, a handle owned by {@code scope}. */
  private static NDArray grad(NDArray p, NDManager scope) {
    return in(scope, p.getGradient());
  }

  /** Moves a temporary that landed in a long-lived manager into the step's scope. */
  private static NDArray in(NDManager scope, NDArray a) {
    a.attach(scope);
    return a;
  }

  @Override
  public void close() {
    manager.close();
  }
}
