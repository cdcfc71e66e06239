package dev.art4j.rollout.engine;

import ai.djl.Device;
import ai.djl.engine.EngineException;
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
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Transformer;
import dev.art4j.core.model.TransformerWeights;
import dev.art4j.rollout.completion.SamplingParams;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensor backend: the engine's step as DJL NDArray operations on the weights' device and
 * dtype (CPU or CUDA; FLOAT32 or FLOAT16), computing what {@link Transformer#forward} computes.
 *
 * <p>The KV cache is one preallocated pair of device tensors per layer, (blocks * 16, Hkv * hd)
 * each: a position's keys/values live in the row {@code block * 16 + slot}, with the block ids
 * of the scheduler's {@link KvPool} (used for bookkeeping only). A step scatters the new rows'
 * keys/values into their slots and gathers each sequence's context by slot index; nothing is
 * reallocated per step. Attention runs per sequence: the step's rows are grouped into segments
 * (one sequence's consecutive rows), padded to (S, C) queries over (S, L) gathered positions,
 * with a causal mask by position. LoRA is applied unmerged, {@code y += scaling (x A^T) B^T},
 * from a device copy of the adapter taken at each {@link InferenceEngine#refreshAdapter()} (the
 * base weights are never copied). Sampling runs on the device ({@link DeviceSampler}); a step
 * brings back only the sampled ids and their log-probs.
 */
final class TensorDecoder implements StepCompute {

  /** Additive bias of masked attention scores (finite: a padded query row stays NaN-free). */
  private static final float MASKED = -1e9f;

  private final ModelConfig config;
  private final TransformerWeights w;
  private final Device device;
  private final DataType dtype;
  private final NDManager manager;
  private final NDArray[] keys; // per layer (capacity * BLOCK, Hkv * hd)
  private final NDArray[] values;
  private final double[] invFreq;
  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final DeviceSampler sampler;
  private final Profile profile = new Profile();
  private final long cacheBytes;
  /** Device copies of adapter snapshots; an entry is freed once its snapshot is unreachable. */
  private final Map<AdapterSnapshot, DeviceLora> adapters = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /** {@code hostRows}: the requests sampled on the host ({@link DeviceSampler#needsHost}). */
  TensorDecoder(Transformer model, int capacityBlocks, java.util.function.Predicate<SamplingParams> hostRows,
      java.util.Set<Integer> eos) {
    this.config = model.config();
    this.w = model.weights();
    this.device = w.embedding().getDevice();
    this.dtype = w.embedding().getDataType();
    if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
      throw new IllegalArgumentException("the tensor backend computes in FLOAT32 or FLOAT16, the weights are " + dtype);
    }
    this.heads = config.numAttentionHeads();
    this.kvHeads = config.numKeyValueHeads();
    this.headDim = config.headDim();
    int half = headDim / 2;
    invFreq = new double[half];
    for (int i = 0; i < half; i++) {
      double f = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / headDim);
      invFreq[i] = config.ropeScaling() == null ? f : config.ropeScaling().scale(f);
    }
    this.manager = NDManager.newBaseManager(device);
    int layers = config.numHiddenLayers();
    keys = new NDArray[layers];
    values = new NDArray[layers];
    Shape shape = new Shape((long) capacityBlocks * KvPool.BLOCK, (long) kvHeads * headDim);
    try {
      for (int l = 0; l < layers; l++) {
        keys[l] = manager.zeros(shape, dtype);
        values[l] = manager.zeros(shape, dtype);
      }
    } catch (EngineException e) {
      manager.close();
      throw outOfMemory(e, "allocating the KV cache of " + capacityBlocks * KvPool.BLOCK + " positions",
          "lower the engine's KV token budget (InferenceEngine.Builder.kvTokenBudget)");
    }
    this.cacheBytes = 2L * layers * shape.size() * dtype.getNumOfBytes();
    this.sampler = new DeviceSampler(config.vocabSize(), hostRows, eos);
  }

  @Override
  public KvPool newKvPool(int capacityBlocks) {
    return KvPool.withoutStorage(capacityBlocks);
  }

  @Override
  public int copyPrefix(KvPool kv, int id, int slots) {
    int fresh = kv.allocate();
    NDIndex from = new NDIndex("{}:{}", (long) id * KvPool.BLOCK, (long) id * KvPool.BLOCK + slots);
    NDIndex to = new NDIndex("{}:{}", (long) fresh * KvPool.BLOCK, (long) fresh * KvPool.BLOCK + slots);
    for (NDArray[] cache : new NDArray[][] {keys, values}) {
      for (NDArray layer : cache) {
        try (NDArray rows = layer.get(from)) {
          layer.set(to, rows);
        }
      }
    }
    return fresh;
  }

  @Override
  public AdapterSnapshot snapshot(Lora lora, long version) {
    AdapterSnapshot token = new AdapterSnapshot(version, lora.config().rank(), lora.scaling(), null, null);
    DeviceLora copy = DeviceLora.copyOf(lora, manager);
    adapters.put(token, copy);
    // the copy's device memory goes when no request holds the snapshot any more
    CLEANER.register(token, copy::close);
    return token;
  }

  private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

  @Override
  public void step(int n, int[] token, int[] pos, int[][] blocks, AdapterSnapshot[] adapter, KvPool kv,
      int[] outRows, Sequence[] outSeq, int nOut, int[] sampled, float[] logprob, int[][] topIds, float[][] topLps) {
    try (NDManager step = manager.newSubManager(); NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      long t = System.nanoTime();
      NDArray logits = forward(step, n, token, pos, blocks, adapter, outRows, nOut);
      t = profile.add(Profile.Op.FORWARD, t);
      sampler.sample(logits, outSeq, nOut, sampled, logprob, topIds, topLps);
      profile.add(Profile.Op.SAMPLE, t);
      profile.steps++;
    } catch (EngineException e) {
      throw outOfMemory(e, "a decode step of " + n + " rows",
          "lower the engine's maxBatchSize / maxStepTokens or its KV token budget (kvTokenBudget)");
    }
  }

  /** A CUDA out-of-memory error said plainly, with the knob to lower; other engine errors as they are. */
  static RuntimeException outOfMemory(EngineException e, String doing, String knob) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("out of memory") || m.contains("can't allocate memory")) { // CUDA's, the CPU allocator's
      return new IllegalStateException("out of device memory while " + doing + ": " + knob, e);
    }
    return e;
  }

  /** The rows' forward; returns the output rows' logits (nOut, vocab) fp32. */
  private NDArray forward(NDManager m, int n, int[] token, int[] pos, int[][] blocks, AdapterSnapshot[] adapter,
      int[] outRows, int nOut) {
    int half = headDim / 2;
    long[] ids = new long[n];
    long[] slots = new long[n];
    float[] cos = new float[n * headDim];
    float[] sin = new float[n * headDim];
    // segments: consecutive rows of one sequence (same block table, consecutive positions)
    int[] segStart = new int[n + 1];
    int segments = 0;
    int maxRows = 0;
    int maxLen = 0;
    for (int r = 0; r < n; r++) {
      ids[r] = token[r];
      slots[r] = (long) blocks[r][pos[r] / KvPool.BLOCK] * KvPool.BLOCK + pos[r] % KvPool.BLOCK;
      for (int i = 0; i < half; i++) {
        double a = pos[r] * invFreq[i];
        float c = (float) Math.cos(a);
        float s = (float) Math.sin(a);
        cos[r * headDim + i] = c;
        cos[r * headDim + half + i] = c;
        sin[r * headDim + i] = s;
        sin[r * headDim + half + i] = s;
      }
      if (r == 0 || blocks[r] != blocks[r - 1] || pos[r] != pos[r - 1] + 1) {
        segStart[segments++] = r;
      }
    }
    segStart[segments] = n;
    for (int s = 0; s < segments; s++) {
      maxRows = Math.max(maxRows, segStart[s + 1] - segStart[s]);
      maxLen = Math.max(maxLen, pos[segStart[s + 1] - 1] + 1);
    }
    int cMax = maxRows;
    int lMax = maxLen;
    long[] padRow = new long[segments * cMax]; // (S*C) the row of each padded query, 0 for padding
    float[] queryPos = new float[segments * cMax]; // its position, -1 for padding
    long[] rowPad = new long[n]; // (n) each row's padded place
    long[] context = new long[segments * lMax]; // (S*L) cache slot of each context position
    java.util.Arrays.fill(queryPos, -1f);
    for (int s = 0; s < segments; s++) {
      int r0 = segStart[s];
      for (int r = r0; r < segStart[s + 1]; r++) {
        int place = s * cMax + (r - r0);
        padRow[place] = r;
        queryPos[place] = pos[r];
        rowPad[r] = place;
      }
      int[] table = blocks[r0];
      int len = pos[segStart[s + 1] - 1] + 1;
      for (int j = 0; j < len; j++) {
        context[s * lMax + j] = (long) table[j / KvPool.BLOCK] * KvPool.BLOCK + j % KvPool.BLOCK;
      }
    }
    long[] outIdx = new long[nOut];
    for (int j = 0; j < nOut; j++) {
      outIdx[j] = outRows[j];
    }

    NDArray idArray = m.create(ids);
    NDArray slotArray = m.create(slots);
    NDIndex slotIndex = new NDIndex("{}", slotArray);
    NDArray cosArray = m.create(cos, new Shape(n, 1, headDim)).toType(dtype, false); // (n, 1, hd)
    NDArray sinArray = m.create(sin, new Shape(n, 1, headDim)).toType(dtype, false);
    NDIndex padIndex = new NDIndex("{}", m.create(padRow));
    NDIndex rowIndex = new NDIndex("{}", m.create(rowPad));
    NDIndex contextIndex = new NDIndex("{}", m.create(context));
    // (S, 1, 1, C, L): 0 where context position j <= the query's position, MASKED elsewhere
    NDArray bias = m.arange(0f, (float) lMax).reshape(1, 1, lMax)
        .gt(m.create(queryPos, new Shape(segments, cMax, 1)))
        .toType(DataType.FLOAT32, false).mul(MASKED)
        .reshape(segments, 1, 1, cMax, lMax);
    NDArray scale = m.create((float) (1 / Math.sqrt(headDim))).toType(dtype, false);
    Rows lora = Rows.of(adapter, n, adapters, m, dtype);

    NDArray x = Embedding.embedding(idArray, w.embedding(), SparseFormat.DENSE).singletonOrThrow(); // (n, D)
    int group = heads / kvHeads;
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      TransformerWeights.Layer lw = w.layers().get(l);
      NDArray h = rmsNorm(x, lw.attnNorm()); // (n, D)
      NDArray q = lora.project(h, lw.wq(), lw.bq(), l, Decoder.Q).reshape(n, heads, headDim);
      NDArray k = lora.project(h, lw.wk(), lw.bk(), l, Decoder.K).reshape(n, kvHeads, headDim);
      NDArray v = lora.project(h, lw.wv(), lw.bv(), l, Decoder.V);
      if (config.qkNorm()) {
        q = rmsNorm(q, lw.qNorm());
        k = rmsNorm(k, lw.kNorm());
      }
      q = rope(q, cosArray, sinArray); // (n, H, hd)
      k = rope(k, cosArray, sinArray); // (n, Hkv, hd)
      keys[l].set(slotIndex, k.reshape(n, (long) kvHeads * headDim));
      values[l].set(slotIndex, v);

      NDArray qp = q.reshape(n, (long) heads * headDim).get(padIndex) // (S*C, H*hd)
          .reshape(segments, cMax, kvHeads, group, headDim)
          .transpose(0, 2, 3, 1, 4) // (S, Hkv, G, C, hd)
          .reshape(segments, kvHeads, (long) group * cMax, headDim)
          .mul(scale);
      NDArray kc = keys[l].get(contextIndex).reshape(segments, lMax, kvHeads, headDim)
          .transpose(0, 2, 3, 1); // (S, Hkv, hd, L)
      NDArray vc = values[l].get(contextIndex).reshape(segments, lMax, kvHeads, headDim)
          .transpose(0, 2, 1, 3); // (S, Hkv, L, hd)
      NDArray probs = qp.matMul(kc) // (S, Hkv, G*C, L)
          .toType(DataType.FLOAT32, false)
          .reshape(segments, kvHeads, group, cMax, lMax)
          .add(bias)
          .softmax(-1)
          .toType(dtype, false)
          .reshape(segments, kvHeads, (long) group * cMax, lMax);
      NDArray attn = probs.matMul(vc) // (S, Hkv, G*C, hd)
          .reshape(segments, kvHeads, group, cMax, headDim)
          .transpose(0, 3, 1, 2, 4) // (S, C, Hkv, G, hd)
          .reshape((long) segments * cMax, (long) heads * headDim)
          .get(rowIndex); // (n, H*hd)
      x = x.add(lora.project(attn, lw.wo(), lw.bo(), l, Decoder.O));

      h = rmsNorm(x, lw.mlpNorm());
      NDArray gate = lora.project(h, lw.wGate(), lw.bGate(), l, Decoder.GATE); // (n, F)
      NDArray up = lora.project(h, lw.wUp(), lw.bUp(), l, Decoder.UP);
      NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
      x = x.add(lora.project(act, lw.wDown(), lw.bDown(), l, Decoder.DOWN));
    }
    NDArray last = x.get(new NDIndex("{}", m.create(outIdx))); // (nOut, D)
    NDArray hidden = rmsNorm(last, w.norm());
    return Linear.linear(hidden, w.lmHead(), null).singletonOrThrow().toType(DataType.FLOAT32, false); // (nOut, V)
  }

  /** {@code x / sqrt(mean(x^2) + eps) * w} over the last axis, in fp32. */
  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    NDArray rms = x32.square().mean(new int[] {-1}, true).add((float) config.rmsNormEps()).sqrt();
    return x32.div(rms).toType(dtype, false).mul(weight);
  }

  /** {@code x cos + rotate_half(x) sin}, rotate_half([a | b]) = [-b | a]; x (n, heads, hd), cos/sin (n, 1, hd). */
  private NDArray rope(NDArray x, NDArray cos, NDArray sin) {
    int half = headDim / 2;
    NDArray first = x.get(new NDIndex("..., :{}", half));
    NDArray second = x.get(new NDIndex("..., {}:", half));
    NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1);
    return x.mul(cos).add(rotated.mul(sin));
  }

  /** Arrays the backend holds now: the cache, and the adapter copies still in use (tests check it stays flat). */
  int liveArrays() {
    return manager.getManagedArrays().size();
  }

  @Override
  public Profile profile() {
    return profile;
  }

  @Override
  public long cacheBytes(KvPool kv) {
    return cacheBytes;
  }

  @Override
  public void close() {
    synchronized (adapters) {
      for (DeviceLora d : adapters.values()) {
        d.close();
      }
      adapters.clear();
    }
    manager.close();
  }

  /** The step's rows' adapters: per adapter in use, a (n, 1) mask of its rows unless it covers all rows. */
  private record Rows(List<DeviceLora> loras, List<NDArray> masks, DataType dtype) {

    static Rows of(AdapterSnapshot[] adapter, int n, Map<AdapterSnapshot, DeviceLora> copies, NDManager m,
        DataType dtype) {
      Map<AdapterSnapshot, float[]> rows = new IdentityHashMap<>();
      boolean anyBase = false;
      for (int r = 0; r < n; r++) {
        if (adapter[r] == null) {
          anyBase = true;
        } else {
          rows.computeIfAbsent(adapter[r], a -> new float[n])[r] = 1f;
        }
      }
      List<DeviceLora> loras = new ArrayList<>();
      List<NDArray> masks = new ArrayList<>();
      for (Map.Entry<AdapterSnapshot, float[]> e : rows.entrySet()) {
        DeviceLora d = copies.get(e.getKey());
        if (d == null) {
          throw new IllegalStateException("adapter snapshot " + e.getKey().version + " has no device copy");
        }
        loras.add(d);
        masks.add(anyBase || rows.size() > 1 ? m.create(e.getValue(), new Shape(n, 1)) : null);
      }
      return new Rows(loras, masks, dtype);
    }

    /** {@code x W^T + b}, plus each adapter's low-rank term on its rows. */
    NDArray project(NDArray x, NDArray weight, NDArray b, int layer, int p) {
      NDArray y = Linear.linear(x, weight, b).singletonOrThrow();
      for (int i = 0; i < loras.size(); i++) {
        NDArray delta = loras.get(i).delta(x, layer, p); // fp32
        if (delta != null) {
          NDArray mask = masks.get(i);
          y = y.add((mask == null ? delta : delta.mul(mask)).toType(dtype, false));
        }
      }
      return y;
    }
  }
}
