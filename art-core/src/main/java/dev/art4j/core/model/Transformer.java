package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A decoder-only transformer (Qwen2/2.5, Qwen3, Llama 3.x) on DJL's PyTorch engine:
 * token embedding, then per layer
 *
 * <pre>
 *   h = x + o_proj(attention(rope(q_proj(rms(x))), rope(k_proj(rms(x))), v_proj(rms(x))))
 *   x = h + down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
 * </pre>
 *
 * then a final RMSNorm ({@code x / sqrt(mean(x^2) + eps) * w}, in fp32) and the LM head. Attention
 * is causal, grouped-query, and masked by padding; Qwen2 adds q/k/v biases, Qwen3 a per-head
 * RMSNorm on q and k. An optional {@link Lora} adds its low-rank term to each targeted projection.
 *
 * <p>Memory: the weights live in this model's own manager and never require gradients; the
 * result of {@link #forward} and the few arrays shared by all layers are attached to the manager
 * of {@code inputIds}, which the caller closes when its step ends (in DJL's PyTorch engine an op's
 * result joins its first operand's manager, so activations always come first here); each layer's
 * own intermediates are closed as soon as the layer returns. For training on little memory,
 * {@link #checkpointed} keeps only the inputs of the layers it checkpoints. The weights'
 * manager is capped, so code that puts a weight first ({@code embedding.get(ids)}) fails loudly
 * instead of leaking.
 *
 * <p>No differentiable op here takes a Java number ({@code x.mul(0.5f)}, {@code x.pow(-0.5f)}):
 * DJL's PyTorch engine turns the number into a scalar array backed by a Java direct buffer and
 * closes it as soon as the op returns, but {@code mul}, {@code div} and {@code pow} keep that
 * operand for the backward pass, which then reads freed memory once a GC has released the buffer
 * (a wrong gradient, or NaN). Scalars are arrays in the activations' manager instead, alive until
 * the caller's step ends ({@code add}/{@code sub} of a number keep nothing and stay).
 */
public final class Transformer implements AutoCloseable {

  static {
    EngineSetup.ensure();
  }

  /** Additive bias of masked attention scores: finite, so fully masked pad rows stay NaN-free. */
  private static final float MASKED = -1e9f;

  private final ModelConfig config;
  private final TransformerWeights weights;
  private final NDManager manager;
  private final NDArray invFreq; // (hd/2) fp32
  /** Activations' dtype: always fp32 (see {@link #dataType()}). */
  private final DataType dtype = DataType.FLOAT32;
  private final DataType weightType;

  private Transformer(ModelConfig config, TransformerWeights weights, NDManager manager) {
    this.config = config;
    this.weights = weights;
    this.manager = manager;
    this.weightType = weights.embedding().getDataType();
    this.invFreq = manager.create(inverseFrequencies(config));
    // Any op whose first operand is a weight would attach its result here and leak for the
    // model's lifetime: capping turns that mistake into an immediate IllegalStateException.
    manager.cap();
  }

  /**
   * Inverse rotary frequencies {@code theta^(-2i/hd)}, i in [0, hd/2), with llama3 scaling when
   * the config has it.
   */
  static float[] inverseFrequencies(ModelConfig c) {
    int half = c.headDim() / 2;
    float[] out = new float[half];
    for (int i = 0; i < half; i++) {
      double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
      out[i] = (float) (c.ropeScaling() == null ? f : c.ropeScaling().scale(f));
    }
    return out;
  }

  /** Loads {@code config.json} and the safetensors weights of a checkpoint directory as fp32. */
  public static Transformer load(Path dir, NDManager parent) throws IOException {
    return load(ModelConfig.load(dir.resolve("config.json")), Safetensors.open(dir), parent, DataType.FLOAT32);
  }

  /**
   * Loads the weights, checking every tensor's shape against {@code config}, as {@code dtype}
   * (FLOAT32, or FLOAT16 for a GPU) into a sub-manager of {@code parent}.
   */
  public static Transformer load(ModelConfig c, Safetensors st, NDManager parent, DataType dtype)
      throws IOException {
    NDManager m = parent.newSubManager();
    try {
      Loader in = new Loader(st, m, dtype);
      long d = c.hiddenSize();
      long q = (long) c.numAttentionHeads() * c.headDim();
      long kv = (long) c.numKeyValueHeads() * c.headDim();
      long f = c.intermediateSize();
      NDArray embedding = in.get("model.embed_tokens.weight", c.vocabSize(), d);
      List<TransformerWeights.Layer> layers = new ArrayList<>();
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        String p = "model.layers." + l + ".";
        layers.add(new TransformerWeights.Layer(
            in.get(p + "input_layernorm.weight", d),
            in.get(p + "self_attn.q_proj.weight", q, d),
            c.attentionBias() ? in.get(p + "self_attn.q_proj.bias", q) : null,
            in.get(p + "self_attn.k_proj.weight", kv, d),
            c.attentionBias() ? in.get(p + "self_attn.k_proj.bias", kv) : null,
            in.get(p + "self_attn.v_proj.weight", kv, d),
            c.attentionBias() ? in.get(p + "self_attn.v_proj.bias", kv) : null,
            in.get(p + "self_attn.o_proj.weight", d, q),
            c.outputBias() ? in.get(p + "self_attn.o_proj.bias", d) : null,
            c.qkNorm() ? in.get(p + "self_attn.q_norm.weight", c.headDim()) : null,
            c.qkNorm() ? in.get(p + "self_attn.k_norm.weight", c.headDim()) : null,
            in.get(p + "post_attention_layernorm.weight", d),
            in.get(p + "mlp.gate_proj.weight", f, d),
            c.mlpBias() ? in.get(p + "mlp.gate_proj.bias", f) : null,
            in.get(p + "mlp.up_proj.weight", f, d),
            c.mlpBias() ? in.get(p + "mlp.up_proj.bias", f) : null,
            in.get(p + "mlp.down_proj.weight", d, f),
            c.mlpBias() ? in.get(p + "mlp.down_proj.bias", d) : null));
      }
      NDArray norm = in.get("model.norm.weight", d);
      NDArray lmHead = c.tieWordEmbeddings() ? embedding : in.get("lm_head.weight", c.vocabSize(), d);
      checkAllUsed(c, st, in.used());
      return new Transformer(c, new TransformerWeights(embedding, layers, norm, lmHead), m);
    } catch (IOException | RuntimeException e) {
      m.close();
      throw e;
    }
  }

  private record Loader(Safetensors st, NDManager m, DataType dtype, Set<String> used) {
    Loader(Safetensors st, NDManager m, DataType dtype) {
      this(st, m, dtype, new HashSet<>());
    }

    NDArray get(String name, long... shape) throws IOException {
      used.add(name);
      return st.load(name, m, dtype, shape);
    }
  }

  private static final Pattern LAYER_TENSOR = Pattern.compile("model\\.layers\\.(\\d+)\\..*");

  /**
   * A tensor the config does not account for means config and checkpoint disagree (a config
   * with fewer layers than the file gave a smaller model without a word; a bias the config
   * does not declare would be dropped), so it is refused. Left alone, as transformers does:
   * rotary {@code inv_freq} buffers, and {@code lm_head.weight} when the embeddings are tied.
   */
  private static void checkAllUsed(ModelConfig c, Safetensors st, Set<String> used) {
    int fileLayers = 0;
    String firstUnused = null;
    for (String name : st.names()) {
      Matcher m = LAYER_TENSOR.matcher(name);
      if (m.matches()) {
        fileLayers = Math.max(fileLayers, m.group(1).length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(m.group(1)) + 1);
      }
      if (used.contains(name) || name.endsWith(".rotary_emb.inv_freq")
          || (c.tieWordEmbeddings() && name.equals("lm_head.weight"))) {
        continue;
      }
      if (firstUnused == null) {
        firstUnused = name;
      }
    }
    if (fileLayers > c.numHiddenLayers()) {
      throw new CheckpointException(st.source() + ": the checkpoint has tensors for " + fileLayers
          + " layers but config.json says num_hidden_layers " + c.numHiddenLayers() + " (first unused: "
          + firstUnused + ")");
    }
    if (firstUnused != null) {
      throw new CheckpointException(st.source() + ": tensor " + firstUnused + " is not part of the "
          + c.modelType() + " model config.json describes (a bias or norm the config does not declare?)");
    }
  }

  /**
   * A model of {@code config}'s shape with random weights (normal-ish, std 0.02; norms 1;
   * biases 0), deterministic in {@code seed}: for benchmarks and tests that need no checkpoint.
   */
  public static Transformer random(ModelConfig c, long seed, NDManager parent) {
    return random(c, seed, parent, DataType.FLOAT32);
  }

  /** {@link #random(ModelConfig, long, NDManager)} stored as {@code dtype} (FLOAT32 or FLOAT16) on {@code parent}'s device. */
  public static Transformer random(ModelConfig c, long seed, NDManager parent, DataType dtype) {
    NDManager m = parent.newSubManager();
    java.util.function.UnaryOperator<NDArray> as = a -> {
      if (a == null || a.getDataType() == dtype) {
        return a;
      }
      NDArray out = a.toType(dtype, false);
      a.close();
      return out;
    };
    SplittableRandom random = new SplittableRandom(seed);
    long d = c.hiddenSize();
    long q = (long) c.numAttentionHeads() * c.headDim();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    long f = c.intermediateSize();
    NDArray embedding = as.apply(randomArray(m, random, c.vocabSize(), d));
    List<TransformerWeights.Layer> layers = new ArrayList<>();
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      layers.add(new TransformerWeights.Layer(
          as.apply(m.ones(new Shape(d))),
          as.apply(randomArray(m, random, q, d)), c.attentionBias() ? as.apply(m.zeros(new Shape(q))) : null,
          as.apply(randomArray(m, random, kv, d)), c.attentionBias() ? as.apply(m.zeros(new Shape(kv))) : null,
          as.apply(randomArray(m, random, kv, d)), c.attentionBias() ? as.apply(m.zeros(new Shape(kv))) : null,
          as.apply(randomArray(m, random, d, q)), c.outputBias() ? as.apply(m.zeros(new Shape(d))) : null,
          c.qkNorm() ? as.apply(m.ones(new Shape(c.headDim()))) : null,
          c.qkNorm() ? as.apply(m.ones(new Shape(c.headDim()))) : null,
          as.apply(m.ones(new Shape(d))),
          as.apply(randomArray(m, random, f, d)), c.mlpBias() ? as.apply(m.zeros(new Shape(f))) : null,
          as.apply(randomArray(m, random, f, d)), c.mlpBias() ? as.apply(m.zeros(new Shape(f))) : null,
          as.apply(randomArray(m, random, d, f)), c.mlpBias() ? as.apply(m.zeros(new Shape(d))) : null));
    }
    NDArray lmHead = c.tieWordEmbeddings() ? embedding : as.apply(randomArray(m, random, c.vocabSize(), d));
    return new Transformer(c, new TransformerWeights(embedding, layers, as.apply(m.ones(new Shape(d))), lmHead), m);
  }

  /** Uniform with std 0.02 (fast to draw for half a billion weights). */
  private static NDArray randomArray(NDManager m, SplittableRandom random, long rows, long cols) {
    int n = Math.toIntExact(rows * cols);
    ByteBuffer buf = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
    FloatBuffer fb = buf.asFloatBuffer();
    double bound = 0.02 * Math.sqrt(3);
    for (int i = 0; i < n; i++) {
      fb.put((float) ((random.nextDouble() * 2 - 1) * bound));
    }
    return m.create(buf, new Shape(rows, cols), DataType.FLOAT32);
  }

  /** The architecture. */
  public ModelConfig config() {
    return config;
  }

  /** The base weights (read-only by convention). */
  public TransformerWeights weights() {
    return weights;
  }

  /** The manager owning the weights. */
  public NDManager manager() {
    return manager;
  }

  /**
   * The dtype of the weights. Activations, logits and the adapter are fp32 whatever it is: a
   * FLOAT16 weight is widened to fp32 where it is used (and the copy freed with the layer's other
   * intermediates), because DJL's PyTorch {@code toType} cuts the autograd graph, so a training
   * forward that cast its activations between fp16 and fp32 would back-propagate nothing. The
   * engine's tensor backend, which never back-propagates, computes in FLOAT16 itself.
   */
  public DataType dataType() {
    return weightType;
  }

  /**
   * Logits for a batch of sequences.
   *
   * @param inputIds (B, T) int64 token ids; its manager receives the result and every intermediate
   * @param positionIds (B, T) int64 rotary positions (for left padding: count real tokens only)
   * @param attentionMask (B, P+T), 1 where a slot may be attended, 0 for padding; P is the
   *     cache's length (0 without a cache); null means all ones
   * @param cache keys/values of earlier slots, extended in place by this call; null for none (a
   *     {@link ReferenceKvCache}: reference decoding in tests; rollouts decode in the inference engine)
   * @param adapter LoRA adapter to apply, or null for the base model
   * @return (B, T, vocab) fp32 logits
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds, NDArray attentionMask, ReferenceKvCache cache, Lora adapter) {
    return logits(hidden(inputIds, positionIds, attentionMask, cache, adapter));
  }

  /** {@link #forward} of unpadded sequences at positions 0..T-1, without a cache. */
  public NDArray forward(NDArray inputIds, Lora adapter) {
    Shape s = inputIds.getShape();
    NDArray positions = inputIds.getManager().arange(0L, s.get(1)).toType(DataType.INT64, false)
        .reshape(1, s.get(1)).repeat(0, s.get(0));
    return forward(inputIds, positions, null, null, adapter);
  }

  /** The LM head over final hidden states: (..., D) to (..., vocab) fp32. */
  public NDArray logits(NDArray hidden) {
    NDArray logits = Linear.linear(hidden, widen(hidden, weights.lmHead()), null).singletonOrThrow();
    return logits.toType(DataType.FLOAT32, false);
  }

  /**
   * The final normed hidden states (B, T, D), before the LM head: a trainer that needs only some
   * positions' log-probs can apply {@link #logits} to those alone. Arguments as {@link #forward}.
   */
  public NDArray hidden(NDArray inputIds, NDArray positionIds, NDArray attentionMask, ReferenceKvCache cache, Lora adapter) {
    Context c = context(inputIds, positionIds, attentionMask, cache, adapter);
    NDArray x = embed(inputIds); // (B, T, D)
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      NDArray next = layer(x, l, c, cache, adapter);
      x.close(); // autograd keeps it if backward needs it
      x = next;
    }
    if (cache != null) {
      cache.advance(Math.toIntExact(c.t()));
    }
    return norm(x); // (B, T, D)
  }

  /**
   * {@link #hidden} with activation checkpointing of the first {@code layers} layers, for
   * training on little memory: those layers run now without a graph (call this outside a
   * {@link ai.djl.training.GradientCollector}) and only their inputs are kept;
   * {@link CheckpointedForward#hidden()} runs the rest with their graph inside the collector, and
   * {@link CheckpointedForward#backward} runs the checkpointed layers again one at a time, from the
   * last, and back-propagates through each. Per checkpointed layer: its activations are not kept,
   * and it costs one more layer forward. Arguments as {@link #hidden}, without a cache.
   */
  public CheckpointedForward checkpointed(NDArray inputIds, NDArray positionIds, NDArray attentionMask,
      Lora adapter, int layers) {
    return checkpointed(inputIds, positionIds, attentionMask, adapter, layers, false);
  }

  /**
   * {@link #checkpointed(NDArray, NDArray, NDArray, Lora, int)}; with {@code selective}, the other
   * layers keep all but their attention probabilities and MLP activation, which backward computes
   * again (a few percent of a layer's work; see {@link CheckpointedForward}).
   */
  public CheckpointedForward checkpointed(NDArray inputIds, NDArray positionIds, NDArray attentionMask,
      Lora adapter, int layers, boolean selective) {
    return new CheckpointedForward(this, context(inputIds, positionIds, attentionMask, null, adapter),
        embed(inputIds), adapter, layers, selective);
  }

  /** Shapes, rotary tables and the additive attention mask of one forward. */
  record Context(long b, long t, long s, NDArray cos, NDArray sin, NDArray bias, NDArray scale) {}

  private Context context(NDArray inputIds, NDArray positionIds, NDArray attentionMask, ReferenceKvCache cache, Lora adapter) {
    Shape ids = inputIds.getShape();
    if (ids.dimension() != 2) {
      throw new IllegalArgumentException("inputIds must be (B, T), got " + ids);
    }
    if (!positionIds.getShape().equals(ids)) {
      throw new IllegalArgumentException("positionIds " + positionIds.getShape() + " must match inputIds " + ids);
    }
    if (adapter != null && adapter.modelConfig().numHiddenLayers() != config.numHiddenLayers()) {
      throw new IllegalArgumentException("adapter was made for a model with "
          + adapter.modelConfig().numHiddenLayers() + " layers, this one has " + config.numHiddenLayers());
    }
    NDManager m = inputIds.getManager();
    long b = ids.get(0);
    long t = ids.get(1);
    int past = cache == null ? 0 : cache.length();
    long s = past + t;
    if (attentionMask == null) {
      attentionMask = m.ones(new Shape(b, s), DataType.INT64);
    } else if (!attentionMask.getShape().equals(new Shape(b, s))) {
      throw new IllegalArgumentException("attentionMask " + attentionMask.getShape() + " must be (B, P+T) = ("
          + b + ", " + s + ") with P = " + past + " cached slots");
    }

    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Context c = context(m, attentionMask, positionIds, b, t, past, s);
      NDScope.unregister(c.cos(), c.sin(), c.bias(), c.scale());
      return c;
    }
  }

  private Context context(NDManager m, NDArray attentionMask, NDArray positionIds, long b, long t, int past, long s) {
    // rotary tables, HF convention: rotate_half over [first half | second half] of each head
    NDArray freqs = positionIds.toType(DataType.FLOAT32, false).expandDims(-1).mul(invFreq); // (B, T, hd/2)
    NDArray angles = NDArrays.concat(new NDList(freqs, freqs), -1).expandDims(1); // (B, 1, T, hd)
    NDArray cos = angles.cos().toType(dtype, false);
    NDArray sin = angles.sin().toType(dtype, false);

    // additive mask: slot j visible to query i iff j <= past + i and attentionMask[b, j] = 1
    NDArray queries = m.arange((float) past, (float) s).reshape(t, 1); // (T, 1)
    NDArray keys = m.arange(0f, (float) s).reshape(1, s); // (1, S)
    NDArray causal = keys.lte(queries).expandDims(0); // (1, T, S)
    NDArray visible = attentionMask.gt(0).expandDims(1).logicalAnd(causal); // (B, T, S)
    NDArray bias = visible.toType(DataType.FLOAT32, false).sub(1f).mul(-MASKED)
        .reshape(b, 1, 1, t, s); // (B, 1, 1, T, S): 0 or MASKED
    // an array, not a Java float, and outside the layers' scopes: kept for backward (class comment)
    NDArray scale = m.create((float) (1 / Math.sqrt(config.headDim())));
    return new Context(b, t, s, cos, sin, bias, scale);
  }

  /** The token embeddings (B, T, D), in {@code inputIds}' manager. */
  NDArray embed(NDArray inputIds) {
    return Embedding.embedding(inputIds, weights.embedding(), SparseFormat.DENSE).singletonOrThrow()
        .toType(dtype, false); // no gradient flows into the embedding
  }

  /** The final RMSNorm. */
  NDArray norm(NDArray x) {
    return rmsNorm(x, weights.norm());
  }

  /**
   * Decoder layer {@code l} on x (B, T, D). Every array the layer creates but its output is closed
   * when it returns: without that, a DJL forward keeps every intermediate of every layer until the
   * caller's manager closes (gigabytes for a 512-token batch of a 0.5B model). Under a
   * {@link ai.djl.training.GradientCollector} this frees only the Java handles: PyTorch's autograd
   * graph still holds what backward needs, exactly as in a PyTorch training step.
   */
  NDArray layer(NDArray x, int l, Context c, ReferenceKvCache cache, Lora adapter) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray x1 = attentionOutput(x, attentionCore(attentionInputs(x, l, c, cache, adapter), c), l, adapter);
      NDArray y = mlpOutput(x1, mlpActivation(mlpInputs(x1, l, adapter)), l, adapter);
      NDScope.unregister(y);
      return y;
    }
  }

  // The layer in the five pieces that SelectiveCheckpoint cuts its graph between:
  //   x -> attentionInputs -> (q, k, v) -> attentionCore -> attn -> attentionOutput (+ x) -> x1
  //   x1 -> mlpInputs -> (gate, up) -> mlpActivation -> act -> mlpOutput (+ x1) -> y
  // The pieces leave their intermediates to the caller's NDScope.

  /**
   * The attention's inputs: q (B, H, T, hd), k and v (B, Hkv, S, hd), after the norm, the
   * projections (with the adapter) and the rotary embedding; k and v include the cache's slots.
   */
  NDList attentionInputs(NDArray x, int l, Context c, ReferenceKvCache cache, Lora adapter) {
    return attentionProjections(attentionNorm(x, l), l, c, cache, adapter);
  }

  /** {@code norm(x)} before the attention: (B, T, D). */
  NDArray attentionNorm(NDArray x, int l) {
    return rmsNorm(x, weights.layers().get(l).attnNorm());
  }

  /** {@link #attentionInputs} from the normed input {@code h} (B, T, D). */
  NDList attentionProjections(NDArray h, int l, Context c, ReferenceKvCache cache, Lora adapter) {
    long b = c.b();
    long t = c.t();
    int hd = config.headDim();
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    TransformerWeights.Layer w = weights.layers().get(l);
    NDArray q = project(h, w.wq(), w.bq(), adapter, l, Projection.Q).reshape(b, t, heads, hd);
    NDArray k = project(h, w.wk(), w.bk(), adapter, l, Projection.K).reshape(b, t, kvHeads, hd);
    NDArray v = project(h, w.wv(), w.bv(), adapter, l, Projection.V).reshape(b, t, kvHeads, hd);
    if (config.qkNorm()) {
      q = rmsNorm(q, w.qNorm());
      k = rmsNorm(k, w.kNorm());
    }
    q = rope(q.transpose(0, 2, 1, 3), c.cos(), c.sin(), hd); // (B, H, T, hd)
    k = rope(k.transpose(0, 2, 1, 3), c.cos(), c.sin(), hd); // (B, Hkv, T, hd)
    v = v.transpose(0, 2, 1, 3); // (B, Hkv, T, hd)
    if (cache != null) {
      NDList kv = cache.append(l, k, v);
      k = kv.get(0); // (B, Hkv, S, hd)
      v = kv.get(1);
    }
    return new NDList(q, k, v);
  }

  /**
   * {@code softmax(q k^T / sqrt(hd) + mask) v} with the heads concatenated: (B, T, H*hd). No
   * parameters; its (B, H, T, S) scores and probabilities are the layer's largest activations.
   */
  NDArray attentionCore(NDList qkv, Context c) {
    long b = c.b();
    long t = c.t();
    long s = c.s();
    int hd = config.headDim();
    int heads = config.numAttentionHeads();
    int kvHeads = config.numKeyValueHeads();
    int group = config.groupSize();
    // grouped-query attention without copying K/V: the `group` query heads sharing a KV head
    // are stacked along the time axis
    NDArray qg = qkv.get(0).mul(c.scale()).reshape(b, kvHeads, (long) group * t, hd); // (B, Hkv, G*T, hd)
    NDArray scores = qg.matMul(qkv.get(1).transpose(0, 1, 3, 2)) // (B, Hkv, G*T, S)
        .toType(DataType.FLOAT32, false)
        .reshape(b, kvHeads, group, t, s)
        .add(c.bias());
    NDArray probs = scores.softmax(-1).toType(dtype, false).reshape(b, kvHeads, (long) group * t, s);
    return probs.matMul(qkv.get(2)) // (B, Hkv, G*T, hd)
        .reshape(b, heads, t, hd)
        .transpose(0, 2, 1, 3)
        .reshape(b, t, (long) heads * hd); // (B, T, H*hd)
  }

  /** {@code x + o_proj(attn)}: (B, T, D). */
  NDArray attentionOutput(NDArray x, NDArray attn, int l, Lora adapter) {
    TransformerWeights.Layer w = weights.layers().get(l);
    return x.add(project(attn, w.wo(), w.bo(), adapter, l, Projection.O));
  }

  /** The gate and up projections of {@code norm(x1)}: (B, T, F) each. */
  NDList mlpInputs(NDArray x1, int l, Lora adapter) {
    return mlpProjections(mlpNorm(x1, l), l, adapter);
  }

  /** {@code norm(x1)} before the MLP: (B, T, D). */
  NDArray mlpNorm(NDArray x1, int l) {
    return rmsNorm(x1, weights.layers().get(l).mlpNorm());
  }

  /** {@link #mlpInputs} from the normed input {@code h} (B, T, D). */
  NDList mlpProjections(NDArray h, int l, Lora adapter) {
    TransformerWeights.Layer w = weights.layers().get(l);
    return new NDList(project(h, w.wGate(), w.bGate(), adapter, l, Projection.GATE),
        project(h, w.wUp(), w.bUp(), adapter, l, Projection.UP));
  }

  /** {@code silu(gate) * up}: (B, T, F), no parameters. */
  NDArray mlpActivation(NDList gateUp) {
    NDArray gate = gateUp.get(0);
    return gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(1));
  }

  /** {@code x1 + down_proj(act)}: (B, T, D). */
  NDArray mlpOutput(NDArray x1, NDArray act, int l, Lora adapter) {
    TransformerWeights.Layer w = weights.layers().get(l);
    return x1.add(project(act, w.wDown(), w.bDown(), adapter, l, Projection.DOWN));
  }

  /** {@code x W^T + b}, plus the adapter's low-rank term when it adapts this projection. */
  private static NDArray project(NDArray x, NDArray w, NDArray bias, Lora adapter, int layer, Projection p) {
    NDArray y = Linear.linear(x, widen(x, w), widen(x, bias)).singletonOrThrow();
    if (adapter != null) {
      NDArray delta = adapter.delta(x, layer, p);
      if (delta != null) {
        y = y.add(delta);
      }
    }
    return y;
  }

  /** {@code x / sqrt(mean(x^2) + eps) * w} over the last axis, computed in fp32. */
  private NDArray rmsNorm(NDArray x, NDArray w) {
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    // div by sqrt rather than mul by pow(-0.5f): pow would keep a freed scalar for backward
    NDArray rms = x32.square().mean(new int[] {-1}, true).add((float) config.rmsNormEps()).sqrt();
    return x32.div(rms).toType(dtype, false).mul(widen(x32, w));
  }

  /**
   * {@code w} as fp32, a copy in {@code activation}'s manager when it is stored narrower: an add
   * that promotes, since a cast's result would join the weights' capped manager.
   */
  private static NDArray widen(NDArray activation, NDArray w) {
    if (w == null || w.getDataType() == DataType.FLOAT32) {
      return w;
    }
    return activation.getManager().zeros(new Shape(1), DataType.FLOAT32).add(w);
  }

  /** {@code x cos + rotate_half(x) sin}, rotate_half([a | b]) = [-b | a]. x: (B, heads, T, hd). */
  private static NDArray rope(NDArray x, NDArray cos, NDArray sin, int hd) {
    int half = hd / 2;
    NDArray first = x.get(new NDIndex("..., :{}", half));
    NDArray second = x.get(new NDIndex("..., {}:", half));
    NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1);
    return x.mul(cos).add(rotated.mul(sin));
  }

  /** Frees the weights. */
  @Override
  public void close() {
    manager.close();
  }
}
