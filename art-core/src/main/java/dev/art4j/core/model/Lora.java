package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A LoRA adapter over a {@link Transformer}, applied without merging: for each targeted
 * projection {@code y = x W^T + b + scaling * dropout(x) A^T B^T}, {@code A (r, in)},
 * {@code B (out, r)}. A fresh adapter has random A (PEFT's Kaiming-uniform,
 * {@code U(-1/sqrt(in), 1/sqrt(in))}) and zero B, so it changes nothing until trained.
 *
 * <p>Files follow PEFT: {@code adapter_config.json} and {@code adapter_model.safetensors} with
 * tensors {@code base_model.model.<module path>.lora_A.weight} / {@code lora_B.weight}.
 * {@link #parameters()} are the only arrays of the model that ever require gradients. The
 * adapter owns its arrays (its own sub-manager); {@link #close()} frees them.
 */
public final class Lora implements AutoCloseable {

  static {
    EngineSetup.ensure();
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Projection[] PROJECTIONS = Projection.values();
  private static final Logger log = LoggerFactory.getLogger(Lora.class);
  // base_model.model.model.layers.<i>.<self_attn|mlp>.<module>.lora_<A|B>.weight
  private static final Pattern LORA_TENSOR =
      Pattern.compile("base_model\\.model\\.model\\.layers\\.(\\d+)\\.(\\w+)\\.(\\w+)\\.lora_[AB]\\.weight");

  private final ModelConfig model;
  private final LoraConfig config;
  private final NDManager manager;
  private final NDArray[][] a; // [layer][projection] (r, in) or null
  private final NDArray[][] b; // [layer][projection] (out, r) or null
  private final float scaling;
  private final NDArray scalingArray; // (), in the adapter's manager: see delta()
  private volatile boolean training;

  private Lora(ModelConfig model, LoraConfig config, NDManager manager, NDArray[][] a, NDArray[][] b) {
    this.model = model;
    this.config = config;
    this.manager = manager;
    this.a = a;
    this.b = b;
    this.scaling = (float) config.scaling();
    this.scalingArray = manager.create(scaling);
    for (NDArray p : parameters()) {
      p.setRequiresGradient(true);
    }
  }

  /** A fresh adapter: A random from {@code seed}, B zero, on {@code parent}'s device. */
  public static Lora create(ModelConfig model, LoraConfig config, long seed, NDManager parent) {
    NDManager manager = parent.newSubManager();
    int layers = model.numHiddenLayers();
    NDArray[][] a = new NDArray[layers][PROJECTIONS.length];
    NDArray[][] b = new NDArray[layers][PROJECTIONS.length];
    SplittableRandom random = new SplittableRandom(seed);
    int r = config.rank();
    for (int l = 0; l < layers; l++) {
      for (Projection p : PROJECTIONS) {
        if (!config.targets(p)) {
          continue;
        }
        int in = p.inFeatures(model);
        float bound = (float) (1 / Math.sqrt(in));
        float[] values = new float[r * in];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        a[l][p.ordinal()] = manager.create(values, new Shape(r, in));
        b[l][p.ordinal()] = manager.zeros(new Shape(p.outFeatures(model), r), DataType.FLOAT32);
      }
    }
    return new Lora(model, config, manager, a, b);
  }

  /**
   * Loads a PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors})
   * whose tensors and {@code target_modules} agree exactly: every targeted projection of every
   * layer has its A and B, and every tensor of the file is used. Anything else (a module the
   * config does not target, a layer the model lacks, a {@code target_modules} that matches
   * nothing) is a {@link CheckpointException} naming the file, the tensor and the module.
   */
  public static Lora load(Path dir, ModelConfig model, NDManager parent) throws IOException {
    return load(dir, model, parent, false);
  }

  /**
   * Loads an adapter that covers only part of what it declares, as PEFT does: the targeted
   * projections whose A and B are in the file are applied, the rest is left out, and what was
   * applied and what was left out is logged. An adapter of which nothing applies is still refused.
   */
  public static Lora loadPartial(Path dir, ModelConfig model, NDManager parent) throws IOException {
    return load(dir, model, parent, true);
  }

  private static Lora load(Path dir, ModelConfig model, NDManager parent, boolean partial) throws IOException {
    Path configFile = dir.resolve("adapter_config.json");
    if (!Files.exists(configFile)) {
      throw new NoSuchFileException(configFile.toString(), null, "LoRA adapter config not found");
    }
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(configFile));
    } catch (JsonProcessingException e) {
      throw new CheckpointException(configFile + ": malformed JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(configFile + ": expected a JSON object");
    }
    if (root.hasNonNull("peft_type") && !root.get("peft_type").asText().equals("LORA")) {
      throw new CheckpointException(configFile + ": peft_type " + root.get("peft_type") + " is not LORA");
    }
    for (String field : new String[] {"rank_pattern", "alpha_pattern"}) {
      JsonNode v = root.get(field);
      if (v != null && v.isObject() && v.size() > 0) {
        throw new CheckpointException(configFile + ": field " + field + " (per-module rank/alpha) is not supported");
      }
    }
    if (root.path("use_dora").asBoolean(false)) {
      throw new CheckpointException(configFile + ": field use_dora: DoRA adapters are not supported");
    }
    if (root.hasNonNull("bias") && !root.get("bias").asText().equals("none")) {
      throw new CheckpointException(configFile + ": field bias \"" + root.get("bias").asText()
          + "\" is not supported (only \"none\")");
    }
    JsonNode rank = root.get("r");
    if (rank == null || !rank.isIntegralNumber() || rank.asInt() <= 0) {
      throw new CheckpointException(configFile + ": field r must be a positive integer, got " + rank);
    }
    JsonNode alpha = root.get("lora_alpha");
    if (alpha != null && !alpha.isNull() && !alpha.isNumber()) {
      throw new CheckpointException(configFile + ": field lora_alpha must be a number, got " + alpha);
    }
    JsonNode dropout = root.get("lora_dropout");
    if (dropout != null && !dropout.isNull()
        && (!dropout.isNumber() || !(dropout.asDouble() >= 0 && dropout.asDouble() < 1))) {
      throw new CheckpointException(configFile + ": field lora_dropout must be a number in [0, 1), got " + dropout);
    }
    Pattern regex = null;
    List<String> targets = new ArrayList<>();
    JsonNode tm = root.get("target_modules");
    if (tm == null || tm.isNull()) {
      throw new CheckpointException(configFile + ": missing field target_modules");
    } else if (tm.isArray()) {
      for (JsonNode t : tm) {
        String name = t.asText();
        String shortName = name.substring(name.lastIndexOf('.') + 1);
        if (Projection.byModuleName(shortName) == null) {
          throw new CheckpointException(configFile + ": target_modules entry \"" + name
              + "\" is not a supported projection (" + LoraConfig.ALL_LINEAR + ")");
        }
        if (!targets.contains(shortName)) {
          targets.add(shortName);
        }
      }
    } else if (tm.asText().equals("all-linear")) {
      targets.addAll(LoraConfig.ALL_LINEAR);
    } else {
      try {
        regex = Pattern.compile(tm.asText()); // PEFT: a string is a full-match regex on module paths
      } catch (PatternSyntaxException e) {
        throw new CheckpointException(configFile + ": field target_modules: invalid regex \"" + tm.asText()
            + "\": " + e.getDescription() + " near index " + e.getIndex(), e);
      }
      for (Projection p : PROJECTIONS) {
        for (int l = 0; l < model.numHiddenLayers(); l++) {
          if (regex.matcher(p.path(l)).matches()) {
            targets.add(p.moduleName());
            break;
          }
        }
      }
    }
    if (targets.isEmpty()) {
      throw new CheckpointException(configFile + ": field target_modules " + tm
          + " matches no projection of the model (module paths look like " + Projection.Q.path(0) + ")");
    }
    LoraConfig declared = new LoraConfig(
        rank.asInt(),
        alpha == null || alpha.isNull() ? 8 : alpha.asDouble(),
        dropout == null || dropout.isNull() ? 0 : dropout.asDouble(),
        targets,
        root.path("use_rslora").asBoolean(false));

    Path weightsFile = dir.resolve("adapter_model.safetensors");
    Safetensors st = Safetensors.open(weightsFile);
    for (String name : st.names()) {
      if (name.contains("lora_") && !name.contains(".lora_A.") && !name.contains(".lora_B.")) {
        throw new CheckpointException(weightsFile + ": tensor " + name + " is not a plain LoRA A/B weight"
            + " (DoRA, embeddings and magnitude vectors are not supported)");
      }
    }
    int layers = model.numHiddenLayers();
    Set<String> used = new HashSet<>();
    List<String> leftOut = new ArrayList<>();
    NDManager manager = parent.newSubManager();
    NDArray[][] a = new NDArray[layers][PROJECTIONS.length];
    NDArray[][] b = new NDArray[layers][PROJECTIONS.length];
    List<String> applied = new ArrayList<>();
    try {
      for (Projection p : PROJECTIONS) {
        int count = 0;
        for (int l = 0; l < layers; l++) {
          if (!declared.targets(p) || (regex != null && !regex.matcher(p.path(l)).matches())) {
            continue;
          }
          String prefix = "base_model.model." + p.path(l);
          String nameA = prefix + ".lora_A.weight";
          String nameB = prefix + ".lora_B.weight";
          if (!st.contains(nameA) || !st.contains(nameB)) {
            String missing = st.contains(nameA) ? nameB : nameA;
            if (!partial) {
              throw new CheckpointException(weightsFile + ": missing tensor " + missing
                  + " (adapter_config.json targets " + p.moduleName() + ")");
            }
            leftOut.add(p.path(l) + " (no " + missing.substring(missing.lastIndexOf(".lora_") + 1) + " in the file)");
            continue;
          }
          a[l][p.ordinal()] = st.load(nameA, manager, DataType.FLOAT32, declared.rank(), p.inFeatures(model));
          b[l][p.ordinal()] = st.load(nameB, manager, DataType.FLOAT32, p.outFeatures(model), declared.rank());
          used.add(nameA);
          used.add(nameB);
          count++;
        }
        if (count > 0) {
          applied.add(p.moduleName() + (count == layers ? "" : " (" + count + " of " + layers + " layers)"));
        }
      }
      for (String name : st.names()) {
        if (used.contains(name)) {
          continue;
        }
        String why = unusedReason(name, declared, regex, layers, tm);
        if (!partial) {
          throw new CheckpointException(weightsFile + ": tensor " + name + " " + why
              + "; refusing to drop it silently (load it as a partial adapter to apply the rest)");
        }
        leftOut.add(name + " (" + why + ")");
      }
      if (applied.isEmpty()) {
        throw new CheckpointException(weightsFile + ": no tensor of this adapter applies to the model "
            + "(target_modules " + tm + ", " + st.names().size() + " tensors in the file)");
      }
    } catch (RuntimeException | IOException e) {
      manager.close();
      throw e;
    }
    List<String> appliedModules = new ArrayList<>();
    for (Projection p : PROJECTIONS) {
      for (int l = 0; l < layers; l++) {
        if (a[l][p.ordinal()] != null) {
          appliedModules.add(p.moduleName());
          break;
        }
      }
    }
    if (!leftOut.isEmpty()) {
      log.warn("partial LoRA adapter {}: applied {}; left out {} ({}{})", dir, applied, leftOut.size(),
          leftOut.get(0), leftOut.size() > 1 ? ", ..." : "");
      log.debug("partial LoRA adapter {}: left out {}", dir, leftOut);
    }
    LoraConfig config = new LoraConfig(declared.rank(), declared.alpha(), declared.dropout(), appliedModules,
        declared.useRslora());
    return new Lora(model, config, manager, a, b);
  }

  /** Why a LoRA tensor of the file was not used by an exact load. */
  private static String unusedReason(String name, LoraConfig declared, Pattern regex, int layers, JsonNode tm) {
    var m = LORA_TENSOR.matcher(name);
    if (!m.matches()) {
      return "is not the LoRA A/B weight of a decoder layer's projection";
    }
    String module = m.group(3);
    int layer;
    try {
      layer = Integer.parseInt(m.group(1));
    } catch (NumberFormatException e) {
      return "names layer " + m.group(1) + ", which the model does not have";
    }
    Projection p = Projection.byModuleName(module);
    if (p == null || !p.path(0).contains("." + m.group(2) + ".")) {
      return "adapts module " + m.group(2) + "." + module + ", which is not a projection the model has";
    }
    if (layer >= layers) {
      return "adapts " + module + " of layer " + layer + " but the model has " + layers + " layers";
    }
    if (!declared.targets(p) || (regex != null && !regex.matcher(p.path(layer)).matches())) {
      return "adapts module " + module + " (layer " + layer + "), which target_modules " + tm + " does not target";
    }
    return "has no " + (name.contains(".lora_A.") ? "lora_B" : "lora_A") + " partner";
  }

  /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} into {@code dir}. */
  public void save(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (int l = 0; l < a.length; l++) {
      for (Projection p : PROJECTIONS) {
        if (a[l][p.ordinal()] != null) {
          String prefix = "base_model.model." + p.path(l);
          tensors.put(prefix + ".lora_A.weight", a[l][p.ordinal()]);
          tensors.put(prefix + ".lora_B.weight", b[l][p.ordinal()]);
        }
      }
    }
    Safetensors.write(dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));

    ObjectNode json = JSON.createObjectNode();
    json.put("peft_type", "LORA");
    json.put("task_type", "CAUSAL_LM");
    json.put("r", config.rank());
    json.put("lora_alpha", config.alpha());
    json.put("lora_dropout", config.dropout());
    json.put("bias", "none");
    json.put("use_rslora", config.useRslora());
    var targets = json.putArray("target_modules");
    config.targetModules().forEach(targets::add);
    json.putNull("base_model_name_or_path");
    Path tmp = Files.createTempFile(dir, "adapter_config", ".tmp");
    try {
      Files.write(tmp, JSON.writeValueAsBytes(json));
      Files.move(tmp, dir.resolve("adapter_config.json"),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The hyper-parameters. */
  public LoraConfig config() {
    return config;
  }

  /** The model architecture this adapter fits. */
  public ModelConfig modelConfig() {
    return model;
  }

  /** {@code alpha / r} (or {@code alpha / sqrt(r)} with rsLoRA). */
  public float scaling() {
    return scaling;
  }

  /** A of a layer's projection, (r, in), or null when not adapted. */
  public NDArray a(int layer, Projection p) {
    return a[layer][p.ordinal()];
  }

  /** B of a layer's projection, (out, r), or null when not adapted. */
  public NDArray b(int layer, Projection p) {
    return b[layer][p.ordinal()];
  }

  /** Every A and B, layer by layer: the trainable parameters (they require gradients). */
  public List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>();
    for (int l = 0; l < a.length; l++) {
      for (int p = 0; p < PROJECTIONS.length; p++) {
        if (a[l][p] != null) {
          out.add(a[l][p]);
          out.add(b[l][p]);
        }
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** Names of {@link #parameters()} in PEFT spelling, in the same order. */
  public List<String> parameterNames() {
    List<String> out = new ArrayList<>();
    for (int l = 0; l < a.length; l++) {
      for (Projection p : PROJECTIONS) {
        if (a[l][p.ordinal()] != null) {
          out.add("base_model.model." + p.path(l) + ".lora_A.weight");
          out.add("base_model.model." + p.path(l) + ".lora_B.weight");
        }
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** Turns dropout on (training) or off (inference, the default). */
  public void setTraining(boolean training) {
    this.training = training;
  }

  /** Whether dropout is on. */
  public boolean isTraining() {
    return training;
  }

  /** The manager that owns the adapter's arrays. */
  public NDManager manager() {
    return manager;
  }

  /**
   * The low-rank term {@code scaling * dropout(x) A^T B^T} (..., out) for one projection, attached
   * to {@code x}'s manager, or null when this projection is not adapted.
   */
  NDArray delta(NDArray x, int layer, Projection p) {
    NDArray la = a[layer][p.ordinal()];
    if (la == null) {
      return null;
    }
    NDArray in = x.getDataType() == la.getDataType() ? x : x.toType(la.getDataType(), false);
    if (training && config.dropout() > 0) {
      in = Dropout.dropout(in, (float) config.dropout(), true).singletonOrThrow();
    }
    NDArray low = Linear.linear(in, la, null).singletonOrThrow(); // (..., r)
    // scaling as an array that lives as long as the adapter, not a Java float: mul keeps its
    // operand for backward, and DJL frees the scalar it makes of a float when mul returns, as the
    // layer's NDScope would free one made here (see Transformer)
    NDArray scaled = low.mul(scalingArray);
    NDArray out = Linear.linear(scaled, b[layer][p.ordinal()], null).singletonOrThrow();
    return out.getDataType() == x.getDataType() ? out : out.toType(x.getDataType(), false);
  }

  @Override
  public void close() {
    manager.close();
  }
}
