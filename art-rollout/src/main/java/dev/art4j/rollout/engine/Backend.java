package dev.art4j.rollout.engine;

import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.Transformer;
import java.util.Locale;

/**
 * Which computation runs an {@link InferenceEngine}'s steps. Both give the same tokens and
 * log-probs within float rounding; the scheduling (batching, prefix sharing, sampling
 * parameters) is the same.
 */
public enum Backend {
  /** The engine's own fp32 Vector-API kernels over weights read in place: CPU, FLOAT32 only. */
  JAVA,
  /**
   * DJL NDArray operations on the weights' device and dtype (CPU or CUDA, FLOAT32 or FLOAT16):
   * the KV cache in preallocated device tensors, LoRA applied unmerged, sampling on the device.
   */
  TENSOR;

  /** {@link #JAVA} for fp32 weights on the CPU, {@link #TENSOR} otherwise. */
  public static Backend of(Transformer model) {
    var embedding = model.weights().embedding();
    return !embedding.getDevice().isGpu() && embedding.getDataType() == DataType.FLOAT32 ? JAVA : TENSOR;
  }

  /** Parses {@code java} or {@code tensor} (any case). */
  public static Backend parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown backend '" + name + "': expected java or tensor");
    }
  }
}
