package dev.art4j.examples.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.Policy;
import dev.art4j.rollout.engine.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu|cuda|cuda:N --dtype float32|float16 --backend java|tensor}: where the policy
 * lives, the dtype of its base weights, and which backend the inference engine runs. Defaults:
 * {@code cuda} when DJL sees a GPU, else {@code cpu}; float32; the backend by device and dtype
 * (the Java kernels for fp32 on the CPU, the tensor backend otherwise).
 */
public final class ComputeOptions {

  @Option(names = "--device", paramLabel = "cpu|cuda|cuda:N",
      description = "Where the model lives (default: cuda when DJL sees a GPU, else cpu).")
  String device;

  @Option(names = "--dtype", paramLabel = "float32|float16",
      description = "Dtype of the base weights (default float32; float16 halves their memory, for a GPU).")
  String dtype;

  @Option(names = "--backend", paramLabel = "java|tensor",
      description = "Inference backend (default: java for float32 on the CPU, tensor otherwise).")
  String backend;

  /** The device asked for, or the default; a clear error when CUDA is asked for and DJL sees no GPU. */
  public Device device() {
    int gpus = gpuCount();
    if (device == null) {
      return gpus > 0 ? Device.gpu() : Device.cpu();
    }
    String d = device.trim().toLowerCase(Locale.ROOT);
    if (d.equals("cpu")) {
      return Device.cpu();
    }
    if (d.equals("cuda") || d.equals("gpu") || d.matches("(cuda|gpu):\\d+")) {
      int index = d.contains(":") ? Integer.parseInt(d.substring(d.indexOf(':') + 1)) : 0;
      if (index >= gpus) {
        throw new IllegalArgumentException("--device " + device + ": " + found()
            + (gpus == 0 ? "; run with the CUDA natives (mvn -Pcuda, see the README's GPU section) on a machine with an NVIDIA GPU"
                : "; valid: cuda:0 .. cuda:" + (gpus - 1)));
      }
      return Device.gpu(index);
    }
    throw new IllegalArgumentException("--device " + device + ": expected cpu, cuda or cuda:N");
  }

  /** FLOAT32 unless asked otherwise; bfloat16 is refused with the reason. */
  public DataType dataType() {
    if (dtype == null) {
      return DataType.FLOAT32;
    }
    return switch (dtype.trim().toLowerCase(Locale.ROOT)) {
      case "float32", "fp32", "f32" -> DataType.FLOAT32;
      case "float16", "fp16", "f16", "half" -> DataType.FLOAT16;
      case "bfloat16", "bf16" -> throw new IllegalArgumentException("--dtype " + dtype
          + ": DJL's PyTorch engine has no bfloat16 (it aborts the JVM); use float16 or float32 "
          + "(bf16 checkpoints are widened on load)");
      default -> throw new IllegalArgumentException("--dtype " + dtype + ": expected float32 or float16");
    };
  }

  /** The backend asked for, or null for the default by device and dtype; java is refused off a CPU fp32 model. */
  public Backend backend() {
    if (backend == null) {
      return null;
    }
    Backend b = Backend.parse(backend);
    if (b == Backend.JAVA && (device().isGpu() || dataType() != DataType.FLOAT32)) {
      throw new IllegalArgumentException("--backend java runs float32 weights on the CPU only; this model is "
          + dataType().toString().toLowerCase(Locale.ROOT) + " on " + device() + ": use --backend tensor");
    }
    return b;
  }

  /** The backend an engine over this model will run: the one asked for, else the default. */
  public Backend effectiveBackend() {
    Backend b = backend();
    return b != null ? b : !device().isGpu() && dataType() == DataType.FLOAT32 ? Backend.JAVA : Backend.TENSOR;
  }

  /** Loading options for the model: this device and dtype. */
  public Policy.Builder apply(Policy.Builder b) {
    return b.device(device()).dataType(dataType());
  }

  /** Checks every option at once (a bad value fails before anything loads). */
  public void validate() {
    device();
    dataType();
    backend();
  }

  private static int gpuCount() {
    return Engine.getInstance().getGpuCount();
  }

  /** What DJL found: engine, version, GPU count and the natives' flavor. */
  static String found() {
    Engine e = Engine.getInstance();
    return "DJL's " + e.getEngineName() + " engine " + e.getVersion() + " sees " + e.getGpuCount() + " GPU(s) with the "
        + nativesFlavor() + " natives";
  }

  /** {@code cpu}, {@code cu124}, ... from the natives jar on the class path. */
  static String nativesFlavor() {
    try (InputStream in = ComputeOptions.class.getClassLoader().getResourceAsStream("native/lib/pytorch.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("flavor", "unknown") + " (" + p.getProperty("version", "?") + ")";
    } catch (IOException e) {
      return "unknown";
    }
  }
}
