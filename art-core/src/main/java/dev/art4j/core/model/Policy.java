package dev.art4j.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What RL trains and rollouts sample from: a base {@link Transformer}, the LoRA {@link Lora}
 * adapter that training updates (null = base model only) and, when the checkpoint has one, its
 * {@link Tokenizer}. Inference and training share the same weights in-process; the trainer swaps
 * a new adapter in with {@link #setAdapter} and the very next forward uses it.
 *
 * <pre>{@code
 * try (Policy policy = Policy.builder(dir).adapter(adapterDir).build()) {
 *   NDArray logits = policy.model().forward(ids, policy.adapter());
 * }
 * }</pre>
 *
 * <p>Defaults: CPU, fp32. {@link #close()} frees the weights, the adapter and everything else
 * created in {@link #manager()}.
 */
public final class Policy implements AutoCloseable {

  static {
    EngineSetup.ensure();
  }

  private final Path directory;
  private final NDManager manager;
  private final Transformer model;
  private final Tokenizer tokenizer;
  private volatile Lora adapter;

  private Policy(Path directory, NDManager manager, Transformer model, Lora adapter, Tokenizer tokenizer) {
    this.directory = directory;
    this.manager = manager;
    this.model = model;
    this.adapter = adapter;
    this.tokenizer = tokenizer;
  }

  /** Loads a checkpoint directory on the CPU in fp32, without an adapter. */
  public static Policy load(Path dir) throws IOException {
    return builder(dir).build();
  }

  /** Options for loading {@code dir} ({@code config.json}, safetensors, optional tokenizer files). */
  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** Loading options. */
  public static final class Builder {
    private final Path dir;
    private Path adapterDir;
    private boolean partialAdapter;
    private Device device = Device.cpu();
    private DataType dataType = DataType.FLOAT32;
    private boolean loadTokenizer = true;

    private Builder(Path dir) {
      this.dir = Objects.requireNonNull(dir, "dir");
    }

    /** A PEFT adapter directory to load and apply. */
    public Builder adapter(Path adapterDir) {
      this.adapterDir = adapterDir;
      return this;
    }

    /**
     * Accepts an adapter that covers only part of what it declares ({@link Lora#loadPartial}:
     * what was applied and left out is logged); by default such an adapter is refused.
     */
    public Builder partialAdapter(boolean allow) {
      this.partialAdapter = allow;
      return this;
    }

    /** Where the weights live (default CPU). */
    public Builder device(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** Dtype of base weights and activations: FLOAT32 (default) or FLOAT16 (GPU). */
    public Builder dataType(DataType dataType) {
      if (dataType != DataType.FLOAT32 && dataType != DataType.FLOAT16) {
        throw new IllegalArgumentException("dataType must be FLOAT32 or FLOAT16, not " + dataType
            + " (DJL's PyTorch engine has no bfloat16)");
      }
      this.dataType = dataType;
      return this;
    }

    /** Whether to load {@code tokenizer.json} when present (default true). */
    public Builder tokenizer(boolean load) {
      this.loadTokenizer = load;
      return this;
    }

    public Policy build() throws IOException {
      ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
      Safetensors weights = Safetensors.open(dir);
      NDManager manager = NDManager.newBaseManager(device);
      Tokenizer tokenizer = null;
      try {
        Transformer model = Transformer.load(config, weights, manager, dataType);
        Lora adapter = adapterDir == null ? null
            : partialAdapter ? Lora.loadPartial(adapterDir, config, manager) : Lora.load(adapterDir, config, manager);
        if (loadTokenizer && Tokenizer.exists(dir)) {
          tokenizer = Tokenizer.load(dir);
        }
        return new Policy(dir, manager, model, adapter, tokenizer);
      } catch (IOException | RuntimeException e) {
        if (tokenizer != null) {
          tokenizer.close();
        }
        manager.close();
        throw e;
      }
    }
  }

  /** The checkpoint directory. */
  public Path directory() {
    return directory;
  }

  /** The architecture. */
  public ModelConfig config() {
    return model.config();
  }

  /** The base model. */
  public Transformer model() {
    return model;
  }

  /** The adapter now in use, or null for the base model alone. */
  public Lora adapter() {
    return adapter;
  }

  /**
   * Puts {@code next} in use (null = base model) and returns the previous adapter, which the
   * caller may close once no forward still reads it.
   */
  public Lora setAdapter(Lora next) {
    if (next != null && !next.modelConfig().equals(model.config())) {
      throw new IllegalArgumentException("adapter was made for a different model architecture");
    }
    Lora previous = adapter;
    adapter = next;
    return previous;
  }

  /** A fresh adapter for this model (A random from {@code seed}, B zero), not yet in use. */
  public Lora newAdapter(LoraConfig config, long seed) {
    return Lora.create(model.config(), config, seed, manager);
  }

  /** Loads a PEFT adapter for this model, not yet in use. */
  public Lora loadAdapter(Path adapterDir) throws IOException {
    return Lora.load(adapterDir, model.config(), manager);
  }

  /** The tokenizer, when the checkpoint directory has {@code tokenizer.json}. */
  public Optional<Tokenizer> tokenizer() {
    return Optional.ofNullable(tokenizer);
  }

  /** The long-lived manager that owns weights and adapters (never put step intermediates here). */
  public NDManager manager() {
    return manager;
  }

  /** Where the weights live. */
  public Device device() {
    return manager.getDevice();
  }

  @Override
  public void close() {
    if (tokenizer != null) {
      tokenizer.close();
    }
    manager.close();
  }
}
