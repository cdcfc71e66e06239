package dev.art4j.train;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.ModelConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * How much activation checkpointing must recompute for a micro-batch's activations to fit in the
 * memory there is: the {@link TrainConfig#activationCheckpointing()} and
 * {@link TrainConfig#selectiveCheckpointing()} {@code null} (auto) defaults. Recomputing a layer
 * costs a forward of it in backward (a sixth of a step when half the layers are recomputed),
 * selective checkpointing the attention core and the MLP activation again (7% of a step on
 * Qwen2.5-0.5B's shape), so auto recomputes nothing when every layer fits whole, else only
 * selectively when that fits, and otherwise selectively plus the fewest whole layers that make
 * the rest fit. The gradients are the same either way.
 *
 * <p>Estimate, per micro-batch of {@code T} tokens (fp32 compute, 4 bytes a value; hidden size
 * {@code D}, key/value width {@code K}, MLP width {@code F}, {@code H} heads):
 * <pre>
 *   kept layer     T (8 D + 2 K + 5 F)       selective checkpointing (probabilities recomputed)
 *                  T (8 D + 2 K + 5 F + 2 H T)   without it (scores and probabilities kept)
 *                  + the layer's weights widened to fp32 when the base is fp16/bf16
 *   recomputed     T D                        (its input only)
 * </pre>
 * fitted with margin to {@code bench train}'s peak resident memory on Qwen2.5-0.5B's shape
 * (1024-token micro-batches: 1.4-1.6 GB more for 12 kept layers than for none, 8 D + 2 K + 5 F
 * gives 1.56 GB). The activations may take half of the memory available now: on the CPU,
 * {@code MemAvailable} of {@code /proc/meminfo}, or a container's headroom under its memory limit
 * when that is less (the JVM's free-memory figure where there is no {@code /proc/meminfo}). On
 * other devices DJL gives no free-memory figure, so auto recomputes half the layers there, and the
 * others selectively.
 */
final class ActivationMemory {

  /** Auto on a device whose free memory is unknown: half the layers, the fixed default before auto. */
  static final double UNKNOWN_DEVICE_FRACTION = 0.5;

  private ActivationMemory() {}

  /** Bytes a layer keeps for backward when it is not recomputed, for {@code tokens} tokens. */
  static long keptLayerBytes(ModelConfig c, int tokens, boolean selective, DataType base) {
    long d = c.hiddenSize();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    long perToken = 8 * d + 2 * kv + 5L * c.intermediateSize();
    if (!selective) {
      perToken += 2L * c.numAttentionHeads() * tokens;
    }
    long bytes = 4 * tokens * perToken;
    if (base != DataType.FLOAT32) {
      bytes += 4 * c.layerProjectionWeights(); // fp16/bf16 weights widened where used; the graph keeps the copies
    }
    return bytes;
  }

  /** Bytes a recomputed layer keeps: its input. */
  static long recomputedLayerBytes(ModelConfig c, int tokens) {
    return 4L * tokens * c.hiddenSize();
  }

  /**
   * The fewest of {@code layers} layers to recompute so that the kept activations fit in {@code budget}
   * bytes; all of them when even that does not fit.
   */
  static int checkpointedLayers(ModelConfig c, int tokens, boolean selective, DataType base, long budget) {
    int layers = c.numHiddenLayers();
    for (int k = 0; k < layers; k++) {
      if (need(c, tokens, selective, base, k) <= budget) {
        return k;
      }
    }
    return layers;
  }

  /** What a step recomputes: the first {@code checkpointedLayers} layers, and selectively the others or not. */
  record Plan(int checkpointedLayers, boolean selective) {}

  /**
   * The plan for a model on {@code device}, each part fixed by the config or auto (null): see the
   * class comment. Both auto: nothing recomputed when all layers fit whole (fastest), else
   * selective checkpointing with the fewest recomputed layers.
   */
  static Plan plan(ModelConfig c, int tokens, Double fraction, Boolean selective, DataType base, Device device) {
    if (fraction != null && selective != null) {
      return fixed(c, fraction, selective); // nothing to measure
    }
    boolean cpu = Device.Type.CPU.equals(device.getDeviceType());
    return plan(c, tokens, fraction, selective, base, cpu ? availableBytes() / 2 : -1);
  }

  /** {@link #plan} for activations that may take {@code budget} bytes, or -1 where that is unknown. */
  static Plan plan(ModelConfig c, int tokens, Double fraction, Boolean selective, DataType base, long budget) {
    int layers = c.numHiddenLayers();
    boolean cpu = budget >= 0;
    if (fraction != null) {
      if (selective != null) {
        return fixed(c, fraction, selective);
      }
      int k = (int) Math.round(fraction * layers);
      return new Plan(k, !cpu || need(c, tokens, false, base, k) > budget);
    }
    if (!cpu) {
      return new Plan((int) Math.round(UNKNOWN_DEVICE_FRACTION * layers), selective == null || selective);
    }
    if (selective == null || !selective) {
      int k = checkpointedLayers(c, tokens, false, base, budget);
      if (k == 0 || selective != null) {
        return new Plan(k, false);
      }
    }
    return new Plan(checkpointedLayers(c, tokens, true, base, budget), true);
  }

  /** The plan both settings fix. */
  private static Plan fixed(ModelConfig c, double fraction, boolean selective) {
    return new Plan((int) Math.round(fraction * c.numHiddenLayers()), selective);
  }

  /** Bytes the kept activations take with the first {@code k} layers recomputed. */
  static long need(ModelConfig c, int tokens, boolean selective, DataType base, int k) {
    long kept = keptLayerBytes(c, tokens, selective, base);
    return (c.numHiddenLayers() - k) * kept + k * recomputedLayerBytes(c, tokens)
        + (k > 0 ? kept : 0); // one recomputed layer's activations exist again during its backward
  }

  /**
   * Memory the process may still take: Linux's {@code MemAvailable}, or inside a container whose
   * memory limit is below the machine's (the JVM reads the cgroup), what the limit leaves if that
   * is less; elsewhere the JVM's free-memory figure.
   */
  static long availableBytes() {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    List<String> meminfo = meminfo(Path.of("/proc/meminfo"));
    OptionalLong available = meminfoField(meminfo, "MemAvailable");
    if (available.isEmpty()) {
      return os.getFreeMemorySize();
    }
    return available(available.getAsLong(), meminfoField(meminfo, "MemTotal").orElse(Long.MAX_VALUE),
        os.getTotalMemorySize(), os.getFreeMemorySize());
  }

  /**
   * {@code memAvailable}, or the container's headroom {@code jvmFree} when the JVM's total
   * ({@code jvmTotal}, the cgroup limit in a container) is below the machine's {@code memTotal}.
   */
  static long available(long memAvailable, long memTotal, long jvmTotal, long jvmFree) {
    return jvmTotal < memTotal ? Math.min(memAvailable, jvmFree) : memAvailable;
  }

  /** The lines of a {@code /proc/meminfo}-format file; none where it cannot be read (not Linux). */
  static List<String> meminfo(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      return List.of();
    }
  }

  /** A field of {@code /proc/meminfo}'s lines ({@code MemAvailable}, {@code MemTotal}), in bytes. */
  static OptionalLong meminfoField(List<String> meminfo, String name) {
    for (String line : meminfo) {
      if (line.startsWith(name + ":")) {
        String[] f = line.substring(name.length() + 1).trim().split("\\s+");
        try {
          return OptionalLong.of(Long.parseLong(f[0]) * 1024); // kB
        } catch (RuntimeException e) {
          return OptionalLong.empty(); // a malformed line: as if the field were absent
        }
      }
    }
    return OptionalLong.empty(); // a kernel without the field (MemAvailable: before 3.14)
  }
}
