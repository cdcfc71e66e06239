package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.TransformerWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's own forward pass over the model's weights, in plain Java: for a decode step the
 * work is reading every weight once, and libtorch's matrix-vector product on this class of CPU
 * reads at half the memory bandwidth, while a DJL op costs ~11 us of overhead, hundreds of times
 * per step. In {@link InferenceDtype#FP32} it reads the weights in place (a view of each NDArray's
 * memory, no copy) and computes exactly what the core {@code Transformer} computes (tests compare
 * the two); in {@link InferenceDtype#BF16} it reads its own bfloat16 copy of the projections and
 * the LM head ({@link WeightStore}), half the bytes per step, with fp32 arithmetic.
 *
 * <p>One call runs a flat list of rows: any number of sequences, each contributing one token
 * (decode) or a chunk of its prompt (prefill), at their own positions against their own blocks
 * of the {@link KvPool}. Per layer, with x the residual stream (rows, D):
 *
 * <pre>
 *   h = rmsnorm(x) ; q, k, v = h Wq^T + bq, h Wk^T + bk, h Wv^T + bv (+ LoRA)
 *   q, k = rope(qknorm(q)), rope(qknorm(k)) ; cache k, v
 *   x += softmax(q K^T / sqrt(hd), causal) V Wo^T
 *   h = rmsnorm(x) ; x += (silu(h Wg^T) * (h Wu^T)) Wd^T
 * </pre>
 */
final class Decoder implements AutoCloseable {

  /** An (out, in) weight matrix with its optional bias. */
  record Linear(WeightMatrix w, float[] bias) {
    int out() {
      return w.rows();
    }

    int in() {
      return w.cols();
    }

    boolean bf16() {
      return w.dtype() == InferenceDtype.BF16;
    }
  }

  /** One decoder layer's weights; qNorm/kNorm null unless the model has them. */
  record Layer(float[] attnNorm, Linear q, Linear k, Linear v, Linear o, float[] qNorm, float[] kNorm,
      float[] mlpNorm, Linear gate, Linear up, Linear down) {}

  /** Projection indices, in {@code dev.art4j.core.model.Projection} order. */
  static final int Q = 0, K = 1, V = 2, O = 3, GATE = 4, UP = 5, DOWN = 6;

  /** Weight rows per parallel task (a multiple of two bf16 panels, {@link Kernels#matmulBf16}). */
  private static final int CHUNK = 64;

  final ModelConfig config;
  private final List<Layer> layers;
  private final WeightStore store;
  private final WeightMatrix embedding;
  private final float[] norm;
  private final Linear head;
  private final Kernels kernels = Kernels.best();
  private final WorkerPool pool;
  private final double[] invFreq;
  private final int dim;
  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final int ffn;
  private final int vocab;
  private final float eps;
  private final Profile profile = new Profile();

  // activations, grown to the largest step seen
  private int capacity;
  private float[] x;      // (n, dim) the residual stream
  private float[] h;      // (n, max(dim, qDim)) a normed copy of x, the input of the projections
  private float[] q;      // (n, heads, headDim) queries
  private float[] keys;   // (n, kvHeads, headDim) the step's new keys, copied into the KV blocks
  private float[] values; // (n, kvHeads, headDim) the step's new values, likewise
  private float[] att;    // (n, heads, headDim) attention output, the input of o_proj
  private float[] gate;   // (n, ffn) gate_proj output, then SwiGLU(gate, up), the input of down_proj
  private float[] up;     // (n, ffn) up_proj output
  private float[] tmp;    // (n, max(dim, qDim)) a projection's output before it is added to x
  private double[] cos, sin;
  private final ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[256]);

  Decoder(ModelConfig config, TransformerWeights w, int threads, InferenceDtype dtype) {
    this.config = config;
    List<NDArray> matrices = new ArrayList<>();
    matrices.add(w.lmHead());
    for (TransformerWeights.Layer l : w.layers()) {
      matrices.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown()));
    }
    this.store = new WeightStore(dtype, matrices);
    this.dim = config.hiddenSize();
    this.heads = config.numAttentionHeads();
    this.kvHeads = config.numKeyValueHeads();
    this.headDim = config.headDim();
    this.ffn = config.intermediateSize();
    this.vocab = config.vocabSize();
    this.eps = (float) config.rmsNormEps();
    this.embedding = store.lookupTable(w.embedding(), "embedding");
    this.norm = floats(w.norm());
    this.head = linear(w.lmHead(), null, "lm_head");
    List<Layer> ls = new ArrayList<>();
    for (int i = 0; i < w.layers().size(); i++) {
      TransformerWeights.Layer l = w.layers().get(i);
      String p = "model.layers." + i + ".";
      ls.add(new Layer(
          floats(l.attnNorm()),
          linear(l.wq(), l.bq(), p + "self_attn.q_proj"),
          linear(l.wk(), l.bk(), p + "self_attn.k_proj"),
          linear(l.wv(), l.bv(), p + "self_attn.v_proj"),
          linear(l.wo(), l.bo(), p + "self_attn.o_proj"),
          l.qNorm() == null ? null : floats(l.qNorm()),
          l.kNorm() == null ? null : floats(l.kNorm()),
          floats(l.mlpNorm()),
          linear(l.wGate(), l.bGate(), p + "mlp.gate_proj"),
          linear(l.wUp(), l.bUp(), p + "mlp.up_proj"),
          linear(l.wDown(), l.bDown(), p + "mlp.down_proj")));
    }
    this.layers = List.copyOf(ls);
    int half = headDim / 2;
    invFreq = new double[half];
    for (int i = 0; i < half; i++) {
      double f = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / headDim);
      invFreq[i] = config.ropeScaling() == null ? f : config.ropeScaling().scale(f);
    }
    this.pool = new WorkerPool(threads, "art4j-decode");
  }

  private static float[] floats(NDArray a) {
    return a.toType(DataType.FLOAT32, false).toFloatArray();
  }

  private Linear linear(NDArray w, NDArray bias, String name) {
    return new Linear(store.matrix(w, name), bias == null ? null : floats(bias));
  }

  /** The dtype of the projection and head weights. */
  InferenceDtype dtype() {
    return store.dtype();
  }

  WorkerPool pool() {
    return pool;
  }

  int threads() {
    return pool.threads();
  }

  Profile profile() {
    return profile;
  }

  /**
   * One step over {@code n} rows.
   *
   * @param token    (n) input id per row
   * @param pos      (n) position per row; rows of one sequence are consecutive positions
   * @param blocks   per row, the block list of its sequence (covering its position)
   * @param adapter  per row, its adapter snapshot or null
   * @param outRows  rows whose next-token logits are wanted
   * @param logits   (outRows.length, vocab) written here
   */
  void forward(int n, int[] token, int[] pos, int[][] blocks, AdapterSnapshot[] adapter, KvPool kv,
      int[] outRows, int nOut, float[] logits) {
    ensure(n);
    long t0 = System.nanoTime();
    for (int r = 0; r < n; r++) {
      int id = token[r];
      for (int i = 0; i < dim; i++) {
        x[r * dim + i] = embedding.get((long) id * dim + i);
      }
      int half = headDim / 2;
      for (int i = 0; i < half; i++) {
        double a = pos[r] * invFreq[i];
        cos[r * half + i] = Math.cos(a);
        sin[r * half + i] = Math.sin(a);
      }
    }
    profile.add(Profile.Op.EMBED, t0);
    boolean anyAdapter = false;
    for (AdapterSnapshot a : adapter) {
      anyAdapter |= a != null;
    }
    AdapterSnapshot[] lora = anyAdapter ? adapter : null;
    for (int layer = 0; layer < layers.size(); layer++) {
      attention(n, layers.get(layer), layer, lora, pos, blocks, kv);
      mlp(n, layers.get(layer), layer, lora);
    }
    long t = System.nanoTime();
    // final norm of the wanted rows only, packed into h
    for (int j = 0; j < nOut; j++) {
      System.arraycopy(x, outRows[j] * dim, tmp, j * dim, dim);
    }
    rmsnorm(tmp, h, nOut, dim, norm);
    t = profile.add(Profile.Op.NORM, t);
    matmuls(nOut, h, new Linear[] {head}, new float[][] {logits});
    profile.add(Profile.Op.LM_HEAD, t);
    profile.steps++;
  }

  /**
   * The attention half of a layer: {@code x += o_proj(attention)} of {@code h = rmsnorm(x)}, the
   * step's keys and values written into the cache first.
   *
   * @param adapter per row its adapter snapshot, or null when no row has one
   */
  private void attention(int n, Layer l, int layer, AdapterSnapshot[] adapter, int[] pos, int[][] blocks, KvPool kv) {
    int qDim = heads * headDim;
    int kvDim = kvHeads * headDim;
    long t = System.nanoTime();
    rmsnorm(x, h, n, dim, l.attnNorm());
    t = profile.add(Profile.Op.NORM, t);
    matmuls(n, h, new Linear[] {l.q(), l.k(), l.v()}, new float[][] {q, keys, values});
    t = profile.add(Profile.Op.MATMUL_QKV, t);
    if (adapter != null) {
      addLora(n, adapter, layer, h, dim, new int[] {Q, K, V}, new float[][] {q, keys, values}, new int[] {qDim, kvDim, kvDim});
      t = profile.add(Profile.Op.LORA, t);
    }
    for (int r = 0; r < n; r++) {
      if (l.qNorm() != null) {
        for (int hh = 0; hh < heads; hh++) {
          rmsnormRow(q, (r * heads + hh) * headDim, headDim, l.qNorm());
        }
        for (int hh = 0; hh < kvHeads; hh++) {
          rmsnormRow(keys, (r * kvHeads + hh) * headDim, headDim, l.kNorm());
        }
      }
      for (int hh = 0; hh < heads; hh++) {
        rope(q, (r * heads + hh) * headDim, r);
      }
      for (int hh = 0; hh < kvHeads; hh++) {
        rope(keys, (r * kvHeads + hh) * headDim, r);
        int id = blocks[r][pos[r] / KvPool.BLOCK];
        float[] blk = kv.block(id);
        int slot = pos[r] % KvPool.BLOCK;
        int ko = kv.index(id, layer, 0, hh, slot, 0);
        int ki = (r * kvHeads + hh) * headDim;
        for (int d = 0; d < headDim; d++) { // the key tile is transposed: component d of each slot together
          blk[ko + d * KvPool.BLOCK] = keys[ki + d];
        }
        System.arraycopy(values, ki, blk, kv.index(id, layer, 1, hh, slot, 0), headDim);
      }
    }
    t = profile.add(Profile.Op.ROPE_CACHE, t);
    pool.run(n * kvHeads, attentionWork(n, pos), task -> attend(task / kvHeads, task % kvHeads, layer, pos, blocks, kv));
    t = profile.add(Profile.Op.ATTENTION, t);
    matmuls(n, att, new Linear[] {l.o()}, new float[][] {tmp});
    t = profile.add(Profile.Op.MATMUL_O, t);
    if (adapter != null) {
      addLora(n, adapter, layer, att, qDim, new int[] {O}, new float[][] {tmp}, new int[] {dim});
      t = profile.add(Profile.Op.LORA, t);
    }
    for (int i = 0; i < n * dim; i++) {
      x[i] += tmp[i];
    }
    profile.add(Profile.Op.NORM, t);
  }

  /**
   * The MLP half of a layer: {@code x += down_proj(silu(gate_proj(h)) * up_proj(h))} with
   * {@code h = rmsnorm(x)}.
   */
  private void mlp(int n, Layer l, int layer, AdapterSnapshot[] adapter) {
    long t = System.nanoTime();
    rmsnorm(x, h, n, dim, l.mlpNorm());
    t = profile.add(Profile.Op.NORM, t);
    gateUp(n, l, adapter, layer);
    t = profile.add(Profile.Op.MATMUL_GATE_UP, t);
    matmuls(n, gate, new Linear[] {l.down()}, new float[][] {tmp});
    t = profile.add(Profile.Op.MATMUL_DOWN, t);
    if (adapter != null) {
      addLora(n, adapter, layer, gate, ffn, new int[] {DOWN}, new float[][] {tmp}, new int[] {dim});
      t = profile.add(Profile.Op.LORA, t);
    }
    for (int i = 0; i < n * dim; i++) {
      x[i] += tmp[i];
    }
    profile.add(Profile.Op.NORM, t);
  }

  /** {@link #addLoraRow} for every row that has an adapter, rows in parallel. */
  private void addLora(int n, AdapterSnapshot[] adapter, int layer, float[] in, int inDim, int[] projections,
      float[][] outs, int[] outDims) {
    pool.run(n, (long) n * loraWork(adapter, inDim), r -> {
      if (adapter[r] != null) {
        addLoraRow(adapter[r], layer, in, inDim, projections, outs, outDims, r);
      }
    });
  }

  /**
   * The one LoRA application: for each projection {@code j}, row {@code r} of {@code outs[j]} gains
   * {@code scale * (in_r A_j^T) B_j^T}, the adapter unmerged from the base weights.
   */
  private void addLoraRow(AdapterSnapshot a, int layer, float[] in, int inDim, int[] projections, float[][] outs,
      int[] outDims, int r) {
    float[] s = scratch(Math.max(256, inDim));
    for (int j = 0; j < projections.length; j++) {
      a.apply(kernels, layer, projections[j], in, inDim, inDim, outs[j], outDims[j], outDims[j], r, s);
    }
  }

  /** y_j = h W_j^T + b_j for every linear j of one input, all in one parallel loop. */
  private void matmuls(int n, float[] in, Linear[] ls, float[][] outs) {
    int[] start = new int[ls.length + 1];
    for (int j = 0; j < ls.length; j++) {
      start[j + 1] = start[j] + (ls[j].out() + CHUNK - 1) / CHUNK;
    }
    long work = 0;
    for (Linear l : ls) {
      work += (long) l.out() * l.in() * n;
    }
    pool.run(start[ls.length], work, task -> {
      int j = 0;
      while (task >= start[j + 1]) {
        j++;
      }
      Linear l = ls[j];
      int r0 = (task - start[j]) * CHUNK;
      int r1 = Math.min(l.out(), r0 + CHUNK);
      matmul(l, in, n, outs[j], r0, r1);
      if (l.bias() != null) {
        for (int b = 0; b < n; b++) {
          for (int r = r0; r < r1; r++) {
            outs[j][b * l.out() + r] += l.bias()[r];
          }
        }
      }
    });
  }

  /** Rows r0..r1 of {@code y = x W^T} for n inputs. */
  private void matmul(Linear l, float[] x, int n, float[] y, int r0, int r1) {
    if (l.bf16()) {
      kernels.matmulBf16(l.w(), x, l.in(), n, y, l.out(), r0, r1);
    } else {
      kernels.matmul(l.w().data(), l.in(), x, l.in(), n, y, l.out(), r0, r1);
    }
  }

  /** gate = silu(h Wg^T) * (h Wu^T), chunk by chunk so the activation runs in parallel too. */
  private void gateUp(int n, Layer l, AdapterSnapshot[] adapter, int layer) {
    int chunks = (ffn + CHUNK - 1) / CHUNK;
    if (adapter == null) {
      pool.run(chunks, 2L * ffn * dim * n, task -> {
        int r0 = task * CHUNK;
        int r1 = Math.min(ffn, r0 + CHUNK);
        matmul(l.gate(), h, n, gate, r0, r1);
        matmul(l.up(), h, n, up, r0, r1);
        for (int b = 0; b < n; b++) {
          addBias(l.gate().bias(), gate, b * ffn, r0, r1);
          addBias(l.up().bias(), up, b * ffn, r0, r1);
          kernels.swiglu(gate, up, b * ffn + r0, r1 - r0);
        }
      });
      return;
    }
    matmuls(n, h, new Linear[] {l.gate(), l.up()}, new float[][] {gate, up});
    pool.run(n, (long) n * loraWork(adapter, ffn), r -> {
      if (adapter[r] != null) {
        addLoraRow(adapter[r], layer, h, dim, new int[] {GATE, UP}, new float[][] {gate, up}, new int[] {ffn, ffn}, r);
      }
      kernels.swiglu(gate, up, r * ffn, ffn);
    });
  }

  /** Multiply-adds of one row's low-rank term for an input of width {@code in} (rough). */
  private static long loraWork(AdapterSnapshot[] adapter, int in) {
    for (AdapterSnapshot a : adapter) {
      if (a != null) {
        return 4L * a.rank * in;
      }
    }
    return 0;
  }

  private long attentionWork(int n, int[] pos) {
    long w = 0;
    for (int r = 0; r < n; r++) {
      w += (long) (pos[r] + 1) * heads * headDim * 2;
    }
    return w;
  }

  private static void addBias(float[] bias, float[] y, int yo, int r0, int r1) {
    if (bias != null) {
      for (int r = r0; r < r1; r++) {
        y[yo + r] += bias[r];
      }
    }
  }

  /** Causal attention of row r's query heads of KV group g over its sequence's cached positions. */
  private void attend(int r, int g, int layer, int[] pos, int[][] blocks, KvPool kv) {
    int group = heads / kvHeads;
    int len = pos[r] + 1;
    int nb = KvPool.blocksFor(len);
    AttendScratch s = attendScratch.get().fit(nb, group * nb * KvPool.BLOCK);
    int[] table = blocks[r];
    for (int b = 0; b < nb; b++) {
      int id = table[b];
      s.blk[b] = kv.block(id);
      s.ko[b] = kv.tile(id, layer, 0, g);
      s.vo[b] = kv.tile(id, layer, 1, g);
    }
    int qo = (r * heads + g * group) * headDim;
    kernels.attention(q, qo, group, headDim, len, (float) (1.0 / Math.sqrt(headDim)), s.blk, s.ko, s.vo, att, s.scores);
  }

  /** A thread's block table and scores for {@link #attend}, grown to the longest sequence seen. */
  private static final class AttendScratch {
    float[][] blk = new float[0][];
    int[] ko = new int[0];
    int[] vo = new int[0];
    float[] scores = new float[0];

    AttendScratch fit(int blocks, int scoreFloats) {
      if (blk.length < blocks) {
        int n = Math.max(blocks, 2 * blk.length);
        blk = new float[n][];
        ko = new int[n];
        vo = new int[n];
      }
      if (scores.length < scoreFloats) {
        scores = new float[Math.max(scoreFloats, 2 * scores.length)];
      }
      return this;
    }
  }

  private final ThreadLocal<AttendScratch> attendScratch = ThreadLocal.withInitial(AttendScratch::new);

  private float[] scratch(int len) {
    float[] s = scratch.get();
    if (s.length < len) {
      s = new float[Math.max(len, 2 * s.length)];
      scratch.set(s);
    }
    return s;
  }

  /** Rotary embedding, Hugging Face's rotate-half convention, of one head at offset o for row r. */
  private void rope(float[] v, int o, int r) {
    int half = headDim / 2;
    for (int i = 0; i < half; i++) {
      double c = cos[r * half + i];
      double sn = sin[r * half + i];
      float a = v[o + i];
      float b = v[o + i + half];
      v[o + i] = (float) (a * c - b * sn);
      v[o + i + half] = (float) (b * c + a * sn);
    }
  }

  private void rmsnorm(float[] in, float[] out, int n, int width, float[] weight) {
    for (int r = 0; r < n; r++) {
      int o = r * width;
      double ss = 0;
      for (int i = 0; i < width; i++) {
        ss += in[o + i] * in[o + i];
      }
      float inv = (float) (1.0 / Math.sqrt(ss / width + eps));
      for (int i = 0; i < width; i++) {
        out[o + i] = weight[i] * (in[o + i] * inv);
      }
    }
  }

  private void rmsnormRow(float[] v, int o, int width, float[] weight) {
    double ss = 0;
    for (int i = 0; i < width; i++) {
      ss += v[o + i] * v[o + i];
    }
    float inv = (float) (1.0 / Math.sqrt(ss / width + eps));
    for (int i = 0; i < width; i++) {
      v[o + i] = weight[i] * (v[o + i] * inv);
    }
  }

  private void ensure(int n) {
    if (n <= capacity) {
      return;
    }
    capacity = Math.max(n, 8);
    int qDim = heads * headDim;
    int kvDim = kvHeads * headDim;
    x = new float[capacity * dim];
    h = new float[capacity * Math.max(dim, qDim)];
    tmp = new float[capacity * Math.max(dim, qDim)];
    q = new float[capacity * qDim];
    att = new float[capacity * qDim];
    keys = new float[capacity * kvDim];
    values = new float[capacity * kvDim];
    gate = new float[capacity * ffn];
    up = new float[capacity * ffn];
    cos = new double[capacity * headDim / 2];
    sin = new double[capacity * headDim / 2];
  }

  @Override
  public void close() {
    pool.close();
    store.close();
  }
}
