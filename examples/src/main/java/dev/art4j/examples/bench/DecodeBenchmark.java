package dev.art4j.examples.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Transformer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.Backend;
import dev.art4j.rollout.engine.EngineStats;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import ai.djl.ndarray.NDArray;
import dev.art4j.core.model.TransformerWeights;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The decode benchmark behind {@code art4j bench decode}: a random-weight model of exactly
 * Qwen2.5-0.5B's shape (24 layers, hidden 896, 14 heads, 2 KV heads, intermediate 4864, vocab
 * 151936, tied embeddings) built in memory in fp32, decoded by the {@link InferenceEngine}.
 *
 * <p>The ceiling: a decode step reads every weight once, so at batch 1
 * {@code ceiling_tok_s = bandwidth / weight bytes} (as the engine holds them: 2 per weight in bf16), with the bandwidth measured in the same run
 * by a parallel sum over the model's own fp32 weights (1.98 GB at this shape, more than any cache,
 * and already resident: the probe adds nothing to the peak resident set). Reported figures:
 * {@code bandwidth_gb_s, weights_gb, ceiling_tok_s, decode_tok_s_b1, decode_tok_s_b8}
 * (aggregate over 8 sequences), {@code prefill_tok_s} (one 512-token prompt) with {@code prefill_ms} (its time per kind of operation), {@code peak_rss_mb}
 * ({@code VmHWM}) beside {@code fp32_weights_mb} and {@code peak_rss_over_fp32_weights}, {@code decode_tok_s_b8_lora_r16} (batch 8 with a rank-16 adapter on all seven
 * projections) and the time per kind of operation of one decode step at batch 1 and 8.
 */
public final class DecodeBenchmark {

  /** KV positions of the benchmark's engines: 8 sequences and a 512-token prompt fit, with room. */
  private static final int KV_TOKENS = 4096;

  private DecodeBenchmark() {}

  /** Qwen2.5-0.5B's architecture. */
  public static ModelConfig qwen25HalfB() {
    return new ModelConfig("qwen2", 151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1_000_000.0, null, true,
        true, false, false, false, 32768, null, List.of(151645), "float32");
  }

  /**
   * Runs the benchmark. The machine it runs on may be shared, so the measurements come in
   * {@code rounds}: each round runs three passes of the bandwidth probe, a batch-1 decode and a
   * batch-8 decode back to back, and each figure is the best over the rounds: the probe and
   * the decodes then see the same (least contended) machine.
   *
   * @param config    the model shape ({@link #qwen25HalfB()} for the reference figures)
   * @param newTokens tokens decoded per sequence in each timed run
   * @param rounds    rounds of probe + decodes
   * @return figures by name, in a stable order
   */
  public static Map<String, Object> run(ModelConfig config, int newTokens, int rounds) throws Exception {
    return run(config, newTokens, rounds, Device.cpu(), DataType.FLOAT32, null, InferenceDtype.AUTO);
  }

  /**
   * {@link #run(ModelConfig, int, int)} with the model on {@code device} in {@code dtype}, decoded
   * by {@code backend} (null: chosen by device and dtype). When that is the tensor backend on a
   * CPU fp32 model, the Java backend's batch-8 figure is measured in the same rounds
   * ({@code java_decode_tok_s_b8}, {@code tensor_over_java_b8}). {@code inferenceDtype} is how the
   * Java backend holds the weights ({@link InferenceDtype#AUTO} is fp32 here: random fp32 weights);
   * the ceiling counts the bytes per weight it reads ({@code ceiling_tok_s_fp32} for comparison).
   */
  public static Map<String, Object> run(ModelConfig config, int newTokens, int rounds, Device device, DataType dtype,
      Backend backend, InferenceDtype inferenceDtype) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    int threads = Runtime.getRuntime().availableProcessors();
    out.put("threads", threads);
    out.put("rounds", rounds);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (NDManager manager = NDManager.newBaseManager(device);
        Transformer model = Transformer.random(config, 42, manager, dtype)) {
      List<MemorySegment> probe = probe(model);
      InferenceEngine engine = InferenceEngine.builder().model(model).backend(backend).inferenceDtype(inferenceDtype)
          .maxBatchSize(8).kvTokenBudget(KV_TOKENS).seed(1).build();
      SamplingParams params = SamplingParams.builder().maxNewTokens(newTokens).ignoreEos(true).seed(7).build();
      // one engine at a time (closed before the LoRA one): a bf16 engine holds its own copy of the weights
      try {
        out.put("device", device.toString());
        out.put("dtype", dtype.toString().toLowerCase(java.util.Locale.ROOT));
        out.put("backend", engine.backend().name().toLowerCase(java.util.Locale.ROOT));
        out.put("kernels", engine.stats().kernels());
        int bytesPerWeight = engine.backend() == Backend.JAVA ? engine.inferenceDtype().bytes()
            : dtype == DataType.FLOAT32 ? 4 : 2;
        out.put("inference_dtype", engine.backend() == Backend.JAVA ? engine.inferenceDtype().toString()
            : dtype.toString().toLowerCase(java.util.Locale.ROOT));
        double weightBytes = weightBytes(config) / 4 * bytesPerWeight;
        InferenceEngine java = engine.backend() == Backend.TENSOR && Backend.of(model) == Backend.JAVA
            ? InferenceEngine.builder().model(model).backend(Backend.JAVA).maxBatchSize(8).kvTokenBudget(KV_TOKENS).seed(1).build()
            : null;
        // warm-up: JIT-compiles the probe and the kernels at both batch shapes
        parallelSum(probe, threads, pool);
        decode(engine, 1, 8, params.toBuilder().maxNewTokens(8).build(), 0);
        decode(engine, 8, 8, params.toBuilder().maxNewTokens(8).build(), 0);
        if (java != null) {
          decode(java, 8, 8, params.toBuilder().maxNewTokens(8).build(), 0);
        }
        double javaB8 = 0;

        double bandwidth = 0;
        double b1 = 0;
        double b8 = 0;
        Phase p1 = new Phase();
        Phase p8 = new Phase();
        // each timed decode's first step prefills its prompts; the same step alone (other prompts
        // of the same length) is measured too and taken out of the per-step breakdowns
        Phase first1 = new Phase();
        Phase first8 = new Phase();
        SamplingParams firstOnly = params.toBuilder().maxNewTokens(1).build();
        for (int round = 0; round < rounds; round++) {
          for (int pass = 0; pass < 3; pass++) {
            bandwidth = Math.max(bandwidth, parallelSum(probe, threads, pool));
          }
          EngineStats before = engine.stats();
          b1 = Math.max(b1, decode(engine, 1, 16, params, 1000 * round));
          EngineStats between = engine.stats();
          b8 = Math.max(b8, decode(engine, 8, 16, params, 1000 * round + 100));
          EngineStats after = engine.stats();
          decode(engine, 1, 16, firstOnly, 1000 * round + 300);
          EngineStats firstOf1 = engine.stats();
          decode(engine, 8, 16, firstOnly, 1000 * round + 400);
          p1.add(before, between);
          p8.add(between, after);
          first1.add(after, firstOf1);
          first8.add(firstOf1, engine.stats());
          if (java != null) {
            javaB8 = Math.max(javaB8, decode(java, 8, 16, params, 1000 * round + 100));
          }
        }
        if (java != null) {
          java.close();
          out.put("java_decode_tok_s_b8", round(javaB8));
          out.put("tensor_over_java_b8", round(b8 / javaB8));
        }
        double ceiling = bandwidth * 1e9 / weightBytes;
        out.put("bandwidth_gb_s", round(bandwidth));
        out.put("weights_gb", round(weightBytes / 1e9));
        out.put("ceiling_tok_s", round(ceiling));
        out.put("ceiling_tok_s_fp32", round(bandwidth * 1e9 / weightBytes(config)));
        out.put("decode_tok_s_b1", round(b1));
        out.put("b1_over_ceiling", round(b1 / ceiling));
        out.put("decode_tok_s_b8", round(b8));
        out.put("b8_over_b1", round(b8 / b1));
        // prefill: the best of two 512-token prompts (different ones: the prefix cache would skip a repeat)
        double prefill = 0;
        Phase pp = new Phase();
        for (int i = 0; i < 2; i++) {
          int[] prompt = prompt(512, 3 + i, config.vocabSize());
          EngineStats before = engine.stats();
          Completion c = engine.submit(prompt, SamplingParams.builder().maxNewTokens(1).seed(1).build()).get();
          pp.add(before, engine.stats());
          prefill = Math.max(prefill, 512 / (c.prefillMillis() / 1000));
        }
        out.put("prefill_tok_s", round(prefill));
        out.put("prefill_ms", perPrompt(pp, 2));
        out.put("decode_step_ms_b1", breakdown(p1.minus(first1)));
        out.put("decode_step_ms_b8", breakdown(p8.minus(first8)));
      } finally {
        engine.close();
      }

      try (Lora lora = Lora.create(config, new LoraConfig(16, 32, 0), 5, manager);
          InferenceEngine adapted = InferenceEngine.builder().model(model).adapter(lora).backend(backend)
              .inferenceDtype(inferenceDtype).maxBatchSize(8)
              .kvTokenBudget(KV_TOKENS).seed(1).build()) {
        decode(adapted, 8, 8, params.toBuilder().maxNewTokens(4).build(), 0);
        double lora8 = 0;
        for (int round = 0; round < Math.max(1, rounds / 2); round++) {
          lora8 = Math.max(lora8, decode(adapted, 8, 16, params, 1000 * round + 200));
        }
        out.put("decode_tok_s_b8_lora_r16", round(lora8));
      }
      long peak = peakRssMb();
      double fp32Mb = weightBytes(config) / 1048576.0;
      out.put("peak_rss_mb", peak);
      out.put("fp32_weights_mb", Math.round(fp32Mb));
      out.put("peak_rss_over_fp32_weights", round(peak / fp32Mb));
      out.put("rss_target_mb", Math.round(2 * fp32Mb + 1024));
    } finally {
      pool.shutdown();
    }
    return out;
  }

  /** Aggregate decode tokens/s of {@code batch} requests submitted together. */
  private static double decode(InferenceEngine engine, int batch, int promptLength, SamplingParams p, long seed)
      throws Exception {
    List<CompletableFuture<Completion>> fs = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      fs.add(engine.submit(prompt(promptLength, seed + i, engine.config().vocabSize()), p));
    }
    double tokens = 0;
    double millis = 0;
    for (CompletableFuture<Completion> f : fs) {
      Completion c = f.get();
      tokens += c.tokens().length - 1; // the first token comes from the prefill
      millis = Math.max(millis, c.decodeMillis());
    }
    return tokens / (millis / 1000);
  }

  /** The operations' times of one kind of decode step, summed over the rounds: engine stats differences. */
  private static final class Phase {
    private final Map<String, Double> millis = new LinkedHashMap<>();
    private long steps;

    void add(EngineStats from, EngineStats to) {
      to.millisByOp().forEach((op, ms) -> millis.merge(op, ms - from.millis(op), Double::sum));
      steps += to.steps() - from.steps();
    }

    /** This phase without the steps and times of {@code other} (times floored at 0). */
    Phase minus(Phase other) {
      Phase d = new Phase();
      millis.forEach((op, ms) -> d.millis.put(op, Math.max(0, ms - other.millis.getOrDefault(op, 0.0))));
      d.steps = steps - other.steps;
      return d;
    }
  }

  /** Milliseconds per prompt of each kind of operation over {@code prompts} prompts, and their total. */
  private static Map<String, Object> perPrompt(Phase phase, int prompts) {
    Map<String, Object> m = new LinkedHashMap<>();
    double total = 0;
    for (Map.Entry<String, Double> e : phase.millis.entrySet()) {
      double each = e.getValue() / prompts;
      if (each > 0) {
        m.put(e.getKey(), round(each));
      }
      total += each;
    }
    m.put("total", round(total));
    return m;
  }

  /** Milliseconds per step of each kind of operation, and their total. */
  private static Map<String, Object> breakdown(Phase phase) {
    Map<String, Object> m = new LinkedHashMap<>();
    double total = 0;
    for (Map.Entry<String, Double> e : phase.millis.entrySet()) {
      double perStep = phase.steps == 0 ? 0 : e.getValue() / phase.steps;
      m.put(e.getKey(), round(perStep));
      total += perStep;
    }
    m.put("total", round(total));
    return m;
  }


  private static int[] prompt(int length, long seed, int vocab) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    int[] p = new int[length];
    for (int i = 0; i < length; i++) {
      p[i] = r.nextInt(vocab);
    }
    return p;
  }

  /** Bytes of fp32 weights one decode step reads (the tied embedding/head counted once). */
  static double weightBytes(ModelConfig c) {
    long d = c.hiddenSize();
    long perLayer = c.layerProjectionWeights() + 2 * d; // and the two norms
    long head = (long) c.vocabSize() * d;
    long embedding = c.tieWordEmbeddings() ? 0 : (long) c.vocabSize() * d;
    return 4.0 * (c.numHiddenLayers() * perLayer + head + embedding + d);
  }

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

  /**
   * The model's 2-d fp32 weights as memory segments: views of the tensors' own (resident) memory,
   * the probe's input.
   */
  private static List<MemorySegment> probe(Transformer model) {
    List<MemorySegment> out = new ArrayList<>();
    java.util.IdentityHashMap<NDArray, Boolean> seen = new java.util.IdentityHashMap<>();
    List<NDArray> all = new ArrayList<>(List.of(model.weights().embedding(), model.weights().lmHead()));
    for (TransformerWeights.Layer l : model.weights().layers()) {
      all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown()));
    }
    for (NDArray a : all) {
      if (seen.put(a, Boolean.TRUE) == null && a.getDataType() == DataType.FLOAT32 && !a.getDevice().isGpu()) {
        out.add(MemorySegment.ofBuffer(a.toByteBuffer(true).order(ByteOrder.nativeOrder())));
      }
    }
    return out;
  }

  /** GB/s of one parallel sum over every segment of {@code probe}, each split evenly over {@code threads}. */
  static double parallelSum(List<MemorySegment> probe, int threads, ExecutorService pool) throws Exception {
    long t0 = System.nanoTime();
    long bytes = 0;
    List<Future<Float>> parts = new ArrayList<>();
    for (MemorySegment seg : probe) {
      long floats = seg.byteSize() / 4;
      long slice = floats / threads / SPECIES.length() * SPECIES.length();
      for (int t = 0; t < threads; t++) {
        long from = t * slice;
        long to = t == threads - 1 ? floats : from + slice;
        parts.add(pool.submit(() -> sum(seg, from, to)));
      }
      bytes += floats * 4;
    }
    for (Future<Float> f : parts) {
      f.get();
    }
    return bytes / (double) (System.nanoTime() - t0);
  }

  /** A Vector-API sum of floats {@code [from, to)} of {@code seg}: it reads memory as fast as the decode kernels do. */
  private static float sum(MemorySegment seg, long from, long to) {
    FloatVector acc = FloatVector.zero(SPECIES);
    long i = from;
    int step = SPECIES.length();
    for (long end = from + (to - from) / step * step; i < end; i += step) {
      acc = acc.add(FloatVector.fromMemorySegment(SPECIES, seg, 4 * i, ByteOrder.nativeOrder()));
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < to; i++) {
      s += seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
    }
    return s;
  }

  /** Peak resident set size of this process ({@code VmHWM}), or -1 where /proc is absent. */
  static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
