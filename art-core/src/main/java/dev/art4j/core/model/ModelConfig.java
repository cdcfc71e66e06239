package dev.art4j.core.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a decoder-only checkpoint, read from a Hugging Face {@code config.json}.
 *
 * <p>Supported {@code model_type}s: {@code qwen2} (Qwen2, Qwen2.5: q/k/v bias), {@code qwen3}
 * (per-head q/k RMSNorm, explicit {@code head_dim}) and {@code llama} (Llama 3.x, optional
 * {@code llama3} rope scaling). Both spellings of the rotary base are read: {@code rope_theta} +
 * {@code rope_scaling} (transformers 4) and {@code rope_parameters} (transformers 5).
 *
 * @param modelType {@code qwen2}, {@code qwen3} or {@code llama}
 * @param headDim per-head width; {@code head_dim} when given, else {@code hiddenSize / numAttentionHeads}
 * @param ropeScaling llama3 scaling, or null for plain rotary embeddings
 * @param attentionBias whether q/k/v projections have a bias (always for qwen2)
 * @param outputBias whether {@code o_proj} has a bias (llama/qwen3 {@code attention_bias})
 * @param mlpBias whether the MLP projections have a bias (llama {@code mlp_bias})
 * @param qkNorm whether queries and keys go through a per-head RMSNorm (qwen3)
 * @param bosTokenId beginning-of-sequence id, or null
 * @param eosTokenIds end-of-sequence ids ({@code eos_token_id} may be an int or a list); may be empty
 * @param torchDtype the checkpoint's storage dtype as written ({@code torch_dtype} or {@code dtype}), or null
 */
public record ModelConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    boolean outputBias,
    boolean mlpBias,
    boolean qkNorm,
    int maxPositionEmbeddings,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    String torchDtype) {

  static final Set<String> SUPPORTED = Set.of("qwen2", "qwen3", "llama");
  private static final ObjectMapper JSON = new ObjectMapper();

  public ModelConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads "
              + numKeyValueHeads);
    }
  }

  /** Query heads per key/value head (grouped-query attention). */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /** Weights of one decoder layer's seven projection matrices (q, k, v, o, gate, up, down), biases and norms aside. */
  public long layerProjectionWeights() {
    long d = hiddenSize;
    long q = (long) numAttentionHeads * headDim;
    long kv = (long) numKeyValueHeads * headDim;
    return d * q + 2 * d * kv + q * d + 3 * d * intermediateSize;
  }

  /** Reads {@code config.json} (or the {@code config.json} inside a checkpoint directory). */
  public static ModelConfig load(Path configJson) throws IOException {
    Path file = Files.isDirectory(configJson) ? configJson.resolve("config.json") : configJson;
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "model config not found");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new CheckpointException(
          file + ": malformed JSON: " + e.getOriginalMessage() + " at line "
              + e.getLocation().getLineNr(), e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(file + ": expected a JSON object");
    }
    return parse(root, file.toString());
  }

  /** Parses an already-read config object; {@code source} names it in errors. */
  public static ModelConfig parse(JsonNode root, String source) {
    Fields f = new Fields(root, source);
    String type = f.string("model_type");
    if (!SUPPORTED.contains(type)) {
      throw new CheckpointException(
          source + ": model_type \"" + type + "\" is not supported (supported: qwen2, qwen3, llama)");
    }
    if (root.hasNonNull("hidden_act") && !root.get("hidden_act").asText().equals("silu")) {
      throw new CheckpointException(
          source + ": hidden_act \"" + root.get("hidden_act").asText() + "\" is not supported (silu only)");
    }
    int hidden = f.positiveInt("hidden_size");
    int heads = f.positiveInt("num_attention_heads");
    int kvHeads = root.hasNonNull("num_key_value_heads") ? f.positiveInt("num_key_value_heads") : heads;
    if (heads % kvHeads != 0) {
      throw new CheckpointException(source + ": num_attention_heads " + heads
          + " is not a multiple of num_key_value_heads " + kvHeads);
    }
    int headDim;
    if (root.hasNonNull("head_dim")) {
      headDim = f.positiveInt("head_dim");
    } else if (hidden % heads == 0) {
      headDim = hidden / heads;
    } else {
      throw new CheckpointException(source + ": head_dim missing and hidden_size " + hidden
          + " is not divisible by num_attention_heads " + heads);
    }
    if (headDim % 2 != 0) {
      throw new CheckpointException(source + ": head_dim " + headDim + " must be even for rotary embeddings");
    }

    // rotary base and scaling: rope_theta + rope_scaling (transformers 4) or rope_parameters (5)
    JsonNode ropeParams = root.get("rope_parameters");
    double theta;
    JsonNode scaling = root.get("rope_scaling");
    String ropeField = "rope_scaling";
    if (ropeParams != null && ropeParams.isObject()) {
      theta = ropeParams.hasNonNull("rope_theta")
          ? new Fields(ropeParams, source, "rope_parameters.").number("rope_theta")
          : root.hasNonNull("rope_theta") ? f.number("rope_theta") : 10000.0;
      if (scaling == null || scaling.isNull()) {
        scaling = ropeParams;
        ropeField = "rope_parameters";
      }
    } else {
      theta = root.hasNonNull("rope_theta") ? f.number("rope_theta") : 10000.0;
    }
    RopeScaling ropeScaling = parseScaling(scaling, source, ropeField);

    boolean qwen2 = type.equals("qwen2");
    boolean attentionBias = qwen2 || f.bool("attention_bias", false);
    boolean outputBias = !qwen2 && f.bool("attention_bias", false);

    return new ModelConfig(
        type,
        f.positiveInt("vocab_size"),
        hidden,
        f.positiveInt("intermediate_size"),
        f.positiveInt("num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        root.hasNonNull("rms_norm_eps") ? f.number("rms_norm_eps") : 1e-6,
        theta,
        ropeScaling,
        f.bool("tie_word_embeddings", false),
        attentionBias,
        outputBias,
        f.bool("mlp_bias", false),
        type.equals("qwen3"),
        root.hasNonNull("max_position_embeddings") ? f.positiveInt("max_position_embeddings") : 32768,
        root.hasNonNull("bos_token_id") ? f.nonNegativeInt("bos_token_id") : null,
        f.intOrList("eos_token_id"),
        root.hasNonNull("torch_dtype") ? root.get("torch_dtype").asText()
            : root.hasNonNull("dtype") ? root.get("dtype").asText() : null);
  }

  private static RopeScaling parseScaling(JsonNode node, String source, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw new CheckpointException(source + ": " + field + " must be an object");
    }
    JsonNode typeNode = node.hasNonNull("rope_type") ? node.get("rope_type") : node.get("type");
    String type = typeNode == null ? "default" : typeNode.asText();
    if (type.equals("default")) {
      return null;
    }
    if (!type.equals("llama3")) {
      throw new CheckpointException(source + ": " + field + ".rope_type \"" + type
          + "\" is not supported (default or llama3)");
    }
    Fields s = new Fields(node, source, field + ".");
    return new RopeScaling(
        s.number("factor"),
        s.number("low_freq_factor"),
        s.number("high_freq_factor"),
        s.positiveInt("original_max_position_embeddings"));
  }

  /** Typed field access whose errors name the file and field. */
  private record Fields(JsonNode node, String source, String prefix) {

    Fields(JsonNode node, String source) {
      this(node, source, "");
    }

    private JsonNode required(String name) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        throw new CheckpointException(source + ": missing field " + prefix + name);
      }
      return v;
    }

    private CheckpointException bad(String name, String expected, JsonNode v) {
      return new CheckpointException(
          source + ": field " + prefix + name + " must be " + expected + ", got " + v);
    }

    String string(String name) {
      JsonNode v = required(name);
      if (!v.isTextual()) {
        throw bad(name, "a string", v);
      }
      return v.asText();
    }

    double number(String name) {
      JsonNode v = required(name);
      if (!v.isNumber()) {
        throw bad(name, "a number", v);
      }
      return v.asDouble();
    }

    int nonNegativeInt(String name) {
      JsonNode v = required(name);
      if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
        throw bad(name, "a non-negative integer", v);
      }
      return v.asInt();
    }

    int positiveInt(String name) {
      int value = nonNegativeInt(name);
      if (value == 0) {
        throw bad(name, "a positive integer", node.get(name));
      }
      return value;
    }

    boolean bool(String name, boolean dflt) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw bad(name, "true or false", v);
      }
      return v.asBoolean();
    }

    List<Integer> intOrList(String name) {
      JsonNode v = node.get(name);
      List<Integer> ids = new ArrayList<>();
      if (v == null || v.isNull()) {
        return ids;
      }
      if (v.isIntegralNumber()) {
        ids.add(v.asInt());
      } else if (v.isArray()) {
        for (JsonNode e : v) {
          if (!e.isIntegralNumber()) {
            throw bad(name, "an integer or a list of integers", v);
          }
          ids.add(e.asInt());
        }
      } else {
        throw bad(name, "an integer or a list of integers", v);
      }
      return ids;
    }
  }
}
