package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Projection;

/**
 * A copy of a LoRA adapter's A and B on the tensor backend's device, in fp32, detached from
 * training (no gradient), read by the requests of one {@link AdapterSnapshot}:
 * {@code delta = scaling * (x A^T) B^T}.
 */
final class DeviceLora implements AutoCloseable {

  private final NDManager manager;
  private final NDArray[][] a; // [layer][projection] (r, in) or null
  private final NDArray[][] b; // [layer][projection] (out, r) or null
  private final float scaling;

  private DeviceLora(NDManager manager, NDArray[][] a, NDArray[][] b, float scaling) {
    this.manager = manager;
    this.a = a;
    this.b = b;
    this.scaling = scaling;
  }

  static DeviceLora copyOf(Lora lora, NDManager parent) {
    NDManager m = parent.newSubManager();
    int layers = lora.modelConfig().numHiddenLayers();
    Projection[] ps = Projection.values();
    NDArray[][] a = new NDArray[layers][ps.length];
    NDArray[][] b = new NDArray[layers][ps.length];
    try {
      for (int l = 0; l < layers; l++) {
        for (Projection p : ps) {
          if (lora.a(l, p) != null) {
            a[l][p.ordinal()] = copy(lora.a(l, p), m);
            b[l][p.ordinal()] = copy(lora.b(l, p), m);
          }
        }
      }
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
    return new DeviceLora(m, a, b, lora.scaling());
  }

  /** A detached fp32 copy of {@code x} on {@code m}'s device, owned by {@code m}. */
  private static NDArray copy(NDArray x, NDManager m) {
    try (NDArray detached = x.stopGradient()) {
      // a copy: toType(FLOAT32, true) of a FLOAT32 array returns a view of the same storage
      NDArray c = detached.getDataType() == DataType.FLOAT32 ? detached.duplicate() : detached.toType(DataType.FLOAT32, false);
      if (!c.getDevice().equals(m.getDevice())) {
        NDArray moved = c.toDevice(m.getDevice(), false);
        c.close();
        c = moved;
      }
      c.attach(m);
      return c;
    }
  }

  /** The low-rank term (n, out) fp32 of projection {@code p} of {@code layer}, or null where not adapted. */
  NDArray delta(NDArray x, int layer, int p) {
    NDArray la = a[layer][p];
    if (la == null) {
      return null;
    }
    NDArray in = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    NDArray low = Linear.linear(in, la, null).singletonOrThrow().mul(scaling); // (n, r)
    return Linear.linear(low, b[layer][p], null).singletonOrThrow();
  }

  @Override
  public void close() {
    manager.close();
  }
}
