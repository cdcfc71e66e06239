package dev.art4j.rollout.engine;

import dev.art4j.core.model.Lora;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Projection;
import dev.art4j.core.model.TransformerWeights;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java backend: the {@link Decoder}'s kernels on the CPU over weights read in place (fp32) or
 * its own bfloat16 copy ({@link InferenceDtype}),
 * the {@link KvPool}'s heap slabs, and the {@link Sampler} on each output row, rows spread over
 * the decoder's threads (after the request's logit processing, {@link HostSampling}).
 */
final class JavaCompute implements StepCompute {

  private final ModelConfig config;
  private final Decoder decoder;
  private final Sampler[] samplers;
  private final Set<Integer> eos;
  private float[] logits = new float[0];

  JavaCompute(ModelConfig config, TransformerWeights weights, int threads, Set<Integer> eos, InferenceDtype dtype) {
    this.config = config;
    this.eos = eos;
    this.decoder = new Decoder(config, weights, threads, dtype);
    this.samplers = new Sampler[decoder.threads()];
    for (int i = 0; i < samplers.length; i++) {
      samplers[i] = new Sampler();
    }
  }

  /** How the decoder holds the weights (resolved: BF16 or FP32). */
  InferenceDtype dtype() {
    return decoder.dtype();
  }

  @Override
  public KvPool newKvPool(int capacityBlocks) {
    return new KvPool(config.numHiddenLayers(), config.numKeyValueHeads(), config.headDim(), capacityBlocks);
  }

  @Override
  public int copyPrefix(KvPool kv, int id, int slots) {
    return kv.copyPrefix(id, slots);
  }

  @Override
  public AdapterSnapshot snapshot(Lora lora, long version) {
    int layers = config.numHiddenLayers();
    Projection[] ps = Projection.values();
    float[][][] a = new float[layers][ps.length][];
    float[][][] bb = new float[layers][ps.length][];
    for (int l = 0; l < layers; l++) {
      for (Projection p : ps) {
        if (lora.config().targets(p)) {
          a[l][p.ordinal()] = lora.a(l, p).toFloatArray();
          bb[l][p.ordinal()] = transpose(lora.b(l, p).toFloatArray(), p.outFeatures(config), lora.config().rank());
        }
      }
    }
    return new AdapterSnapshot(version, lora.config().rank(), lora.scaling(), a, bb);
  }

  /** (rows, cols) row-major to (cols, rows) row-major. */
  private static float[] transpose(float[] m, int rows, int cols) {
    float[] t = new float[m.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = m[r * cols + c];
      }
    }
    return t;
  }

  @Override
  public void step(int n, int[] token, int[] pos, int[][] blocks, AdapterSnapshot[] adapter, KvPool kv,
      int[] outRows, Sequence[] outSeq, int nOut, int[] sampled, float[] logprob, int[][] topIds, float[][] topLps) {
    int vocab = config.vocabSize();
    if (logits.length < nOut * vocab) {
      logits = new float[Math.max(nOut, 2 * logits.length / vocab) * vocab];
    }
    decoder.forward(n, token, pos, blocks, adapter, kv, outRows, nOut, logits);
    long now = System.nanoTime();
    // rows sample independently (each request has its own random stream): spread over threads
    AtomicInteger slot = new AtomicInteger();
    ThreadLocal<Sampler> mine = ThreadLocal.withInitial(() -> samplers[slot.getAndIncrement()]);
    decoder.pool().run(nOut, (long) nOut * vocab * 8, j -> {
      float[] out = new float[1];
      sampled[j] = HostSampling.sample(mine.get(), logits, j * vocab, vocab, outSeq[j], eos, out, topIds[j], topLps[j]);
      logprob[j] = out[0];
    });
    decoder.profile().add(Profile.Op.SAMPLE, now);
  }

  @Override
  public Profile profile() {
    return decoder.profile();
  }

  @Override
  public long cacheBytes(KvPool kv) {
    return kv.bytes();
  }

  @Override
  public void close() {
    decoder.close();
  }
}
