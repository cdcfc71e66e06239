package dev.art4j.rollout.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Safetensors;
import dev.art4j.core.model.Transformer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tensor backend against the Java backend: same greedy tokens and log-probs within 1e-4 on
 * every fixture checkpoint, with and without an adapter, alone and eight at a time; seeded
 * sampling; cancellation. The same agreement runs on CUDA where DJL sees a GPU.
 */
class TensorBackendTest {

  private static NDManager manager;
  @TempDir static Path tmp;

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  static List<Path> models() throws Exception {
    return Reference.models();
  }

  /** The fixture's adapter, or else a random one with non-zero B (a fresh adapter changes nothing). */
  private static Lora adapterFor(Path dir, ModelConfig config, NDManager m) throws Exception {
    if (Files.isDirectory(dir.resolve("adapter"))) {
      return Lora.load(dir.resolve("adapter"), config, m);
    }
    Path out = tmp.resolve("adapter-" + dir.getFileName());
    if (!Files.exists(out.resolve("adapter_model.safetensors"))) {
      try (NDManager scratch = NDManager.newBaseManager();
          Lora fresh = Lora.create(config, new LoraConfig(4, 8, 0), 11, scratch)) {
        fresh.save(out);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(12);
        for (int i = 0; i < fresh.parameters().size(); i++) {
          NDArray p = fresh.parameters().get(i);
          String name = fresh.parameterNames().get(i);
          if (name.contains("lora_B")) {
            float[] v = new float[(int) p.size()];
            for (int j = 0; j < v.length; j++) {
              v[j] = (float) ((r.nextDouble() * 2 - 1) * 0.3);
            }
            p = scratch.create(v, p.getShape());
          }
          tensors.put(name, p);
        }
        Safetensors.write(out.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
      }
    }
    return Lora.load(out, config, m);
  }

  private static int[] randomPrompt(SplittableRandom r, int length, int vocab) {
    int[] p = new int[length];
    for (int i = 0; i < length; i++) {
      p[i] = r.nextInt(vocab);
    }
    return p;
  }

  private static Completion get(CompletableFuture<Completion> f) throws Exception {
    return f.get(120, TimeUnit.SECONDS);
  }

  /** Eight prompts of different lengths; 4-7 extend the first tokens of 0-3 (shared prefixes). */
  private static int[][] prompts(int vocab) {
    SplittableRandom r = new SplittableRandom(7);
    int[] lengths = {1, 5, 17, 33, 9, 2, 26, 16};
    int[][] prompts = new int[8][];
    for (int i = 0; i < 8; i++) {
      prompts[i] = randomPrompt(r, lengths[i], vocab);
    }
    for (int i = 4; i < 8; i++) {
      int shared = Math.min(prompts[i - 4].length, prompts[i].length - 1);
      System.arraycopy(prompts[i - 4], 0, prompts[i], 0, shared);
    }
    return prompts;
  }

  private static final int[] NEWS = {6, 3, 10, 4, 8, 12, 3, 5};

  private static SamplingParams greedy(int n) {
    return SamplingParams.builder().temperature(0).maxNewTokens(n).ignoreEos(true).build();
  }

  /** Greedy completions alone (one after another) and all eight submitted at once. */
  private static Completion[][] run(InferenceEngine engine, int[][] prompts) throws Exception {
    Completion[] alone = new Completion[8];
    for (int i = 0; i < 8; i++) {
      alone[i] = get(engine.submit(prompts[i], greedy(NEWS[i])));
    }
    List<CompletableFuture<Completion>> fs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fs.add(engine.submit(prompts[i], greedy(NEWS[i])));
    }
    Completion[] together = new Completion[8];
    for (int i = 0; i < 8; i++) {
      together[i] = get(fs.get(i));
    }
    return new Completion[][] {alone, together};
  }

  private static void assertAgree(Completion[][] want, Completion[][] got, double tolerance, String what) {
    for (int k = 0; k < 2; k++) {
      for (int i = 0; i < 8; i++) {
        String where = what + (k == 0 ? " alone" : " batch of 8") + ", prompt " + i;
        assertArrayEquals(want[k][i].tokens(), got[k][i].tokens(), where);
        for (int j = 0; j < want[k][i].tokens().length; j++) {
          assertEquals(want[k][i].logprobs()[j], got[k][i].logprobs()[j], tolerance, where + " token " + j);
        }
        assertEquals(FinishReason.LENGTH, got[k][i].finishReason());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void greedyTokensAndLogprobsEqualTheJavaBackend(Path dir) throws Exception {
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = adapterFor(dir, model.config(), manager)) {
      int[][] prompts = prompts(model.config().vocabSize());
      for (Lora adapter : new Lora[] {null, lora}) {
        String what = dir.getFileName() + (adapter == null ? "" : " with adapter");
        Completion[][] java;
        try (InferenceEngine engine = InferenceEngine.builder().model(model).adapter(adapter).maxStepTokens(24).build()) {
          assertEquals(Backend.JAVA, engine.backend(), "a CPU fp32 model picks the Java kernels");
          java = run(engine, prompts);
        }
        try (InferenceEngine engine = InferenceEngine.builder().model(model).adapter(adapter).maxStepTokens(24)
            .backend(Backend.TENSOR).build()) {
          Completion[][] tensor = run(engine, prompts);
          assertAgree(java, tensor, 1e-4, what);
        }
      }
    }
  }

  @Test
  void seededSamplingIsReproducibleAndDrawsWhatTheJavaSamplerDraws() throws Exception {
    Path dir = Reference.model("tiny-llama-bf16"); // the tiny-qwen2 adapter makes a near-greedy model
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = null;
        InferenceEngine javaEngine = InferenceEngine.builder().model(model).adapter(lora).build();
        InferenceEngine tensor = InferenceEngine.builder().model(model).adapter(lora).backend(Backend.TENSOR).build()) {
      int[] prompt = {1, 50, 60, 70, 80};
      SamplingParams[] params = {
          SamplingParams.builder().temperature(1).maxNewTokens(30).ignoreEos(true).seed(1234).build(),
          SamplingParams.builder().temperature(0.8).topK(20).maxNewTokens(30).ignoreEos(true).seed(99).build(),
          SamplingParams.builder().temperature(1.2).topP(0.9).maxNewTokens(30).ignoreEos(true).seed(7).build(),
          SamplingParams.builder().temperature(0.7).topK(40).topP(0.95).maxNewTokens(30).ignoreEos(true).seed(3).build()};
      for (SamplingParams p : params) {
        Completion alone = get(tensor.submit(prompt, p));
        // again, among other requests of other lengths
        List<CompletableFuture<Completion>> others = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 6; i++) {
          others.add(tensor.submit(randomPrompt(r, 3 + 7 * i, 256), SamplingParams.builder().maxNewTokens(10 + 5 * i).build()));
        }
        Completion crowded = get(tensor.submit(prompt, p));
        for (CompletableFuture<Completion> f : others) {
          get(f);
        }
        assertArrayEquals(alone.tokens(), crowded.tokens(), p.toString());
        Completion javaDraw = get(javaEngine.submit(prompt, p));
        assertArrayEquals(javaDraw.tokens(), alone.tokens(), "same seed, same draws on both backends: " + p);
        for (int j = 0; j < alone.tokens().length; j++) {
          assertEquals(javaDraw.logprobs()[j], alone.logprobs()[j], 1e-4, p + " token " + j);
          assertEquals(alone.logprobs()[j], crowded.logprobs()[j], 1e-5, p + " token " + j);
        }
        Completion other = get(tensor.submit(prompt, p.toBuilder().seed(4321).build()));
        assertFalse(java.util.Arrays.equals(alone.tokens(), other.tokens()), "another seed samples other tokens: " + p + " " + java.util.Arrays.toString(alone.logprobs()));
      }
    }
  }

  @Test
  void topKAndTopPKeepTheirNucleusOnTheDevice() throws Exception {
    Path dir = Reference.model("tiny-qwen3");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine tensor = InferenceEngine.builder().model(model).backend(Backend.TENSOR).build();
        NDManager m = manager.newSubManager()) {
      int[] prompt = {3, 9, 27};
      float[] lp = Reference.logSoftmax(model, null, prompt, 1.0, m)[prompt.length - 1];
      Integer[] order = new Integer[lp.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> Float.compare(lp[b], lp[a]));
      java.util.Set<Integer> top3 = java.util.Set.of(order[0], order[1], order[2]);
      java.util.Set<Integer> nucleus = new java.util.HashSet<>();
      double mass = 0;
      for (int i = 0; mass < 0.5; i++) {
        nucleus.add(order[i]);
        mass += Math.exp(lp[order[i]]);
      }
      java.util.Set<Integer> seenK = new java.util.HashSet<>();
      java.util.Set<Integer> seenP = new java.util.HashSet<>();
      for (int seed = 0; seed < 60; seed++) {
        int k = get(tensor.submit(prompt, SamplingParams.builder().topK(3).maxNewTokens(1).seed(seed).build())).tokens()[0];
        int p = get(tensor.submit(prompt, SamplingParams.builder().topP(0.5).maxNewTokens(1).seed(seed).build())).tokens()[0];
        assertTrue(top3.contains(k), "top-3 sampled " + k);
        assertTrue(nucleus.contains(p), "top-p 0.5 sampled " + p + " outside " + nucleus);
        seenK.add(k);
        seenP.add(p);
      }
      assertEquals(3, seenK.size(), "all three of the top 3 are drawn in 60 tries");
      assertEquals(nucleus.size() > 1, seenP.size() > 1, "the nucleus " + nucleus + " is drawn from, not just its head");
    }
  }

  @Test
  void hostSampledRowsEqualDeviceSampledRows() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine device = InferenceEngine.builder().model(model).backend(Backend.TENSOR).build();
        InferenceEngine host = InferenceEngine.builder().model(model).backend(Backend.TENSOR)
            .hostSampling(p -> p.seed().orElse(0) % 2 == 1).build()) {
      int[] prompt = {1, 2, 3, 4, 5, 6};
      List<CompletableFuture<Completion>> a = new ArrayList<>();
      List<CompletableFuture<Completion>> b = new ArrayList<>();
      for (int seed = 0; seed < 6; seed++) {
        SamplingParams p = SamplingParams.builder().temperature(seed < 2 ? 0 : 0.9).topK(seed >= 4 ? 30 : 0)
            .maxNewTokens(12).ignoreEos(true).seed(seed).build();
        a.add(device.submit(prompt, p));
        b.add(host.submit(prompt, p)); // odd seeds sampled on the host, beside even ones on the device
      }
      for (int i = 0; i < 6; i++) {
        Completion x = get(a.get(i));
        Completion y = get(b.get(i));
        assertArrayEquals(x.tokens(), y.tokens(), "request " + i);
        for (int j = 0; j < x.tokens().length; j++) {
          assertEquals(x.logprobs()[j], y.logprobs()[j], 1e-5, "request " + i + " token " + j);
        }
      }
    }
  }

  @Test
  void newRequestsUseTheAdapterAfterRefresh() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Policy policy = Policy.load(dir)) {
      Transformer model = policy.model();
      Lora lora = adapterFor(dir, model.config(), policy.manager());
      try (InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(Backend.TENSOR).build()) {
        int[] prompt = {5, 6, 7, 8};
        int[] base = get(engine.submit(prompt, greedy(8))).tokens();
        assertArrayEquals(Reference.greedy(model, null, prompt, 8, manager), base);
        policy.setAdapter(lora);
        assertArrayEquals(base, get(engine.submit(prompt, greedy(8))).tokens(), "no refresh, no new weights");
        engine.refreshAdapter();
        assertArrayEquals(Reference.greedy(model, lora, prompt, 8, manager), get(engine.submit(prompt, greedy(8))).tokens());
      }
    }
  }

  @Test
  void aRequestSamplesFromTheSnapshotNotFromAnAdapterTrainedInPlace() throws Exception {
    Path dir = Reference.model("tiny-qwen3");
    try (Policy policy = Policy.load(dir)) {
      policy.setAdapter(adapterFor(dir, policy.config(), policy.manager()));
      assertInPlaceTrainingWaitsForRefresh(policy);
    }
  }

  private static void assertInPlaceTrainingWaitsForRefresh(Policy policy) throws Exception {
    try (InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(Backend.TENSOR).build()) {
      int[] prompt = {9, 8, 7, 6, 5};
      int[] adapted = get(engine.submit(prompt, greedy(8))).tokens();
      int[] base = Reference.greedy(policy.model(), null, prompt, 8, manager);
      assertFalse(java.util.Arrays.equals(adapted, base), "the fixture adapter changes the greedy tokens");
      // what an optimizer step does: the adapter's own arrays change in place
      List<NDArray> ps = policy.adapter().parameters();
      for (int i = 0; i < ps.size(); i++) {
        if (policy.adapter().parameterNames().get(i).contains("lora_B")) {
          ps.get(i).set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
        }
      }
      assertArrayEquals(adapted, get(engine.submit(prompt, greedy(8))).tokens(), "no refresh: the snapshot's weights");
      engine.refreshAdapter();
      assertArrayEquals(base, get(engine.submit(prompt, greedy(8))).tokens(), "after refresh: B = 0, the base model");
    }
  }

  @Test
  void theJavaBackendRefusesHalfPrecisionAndTheTensorBackendTakesIt() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer half = Transformer.load(ModelConfig.load(dir.resolve("config.json")), Safetensors.open(dir),
        manager, DataType.FLOAT16);
        Transformer full = Transformer.load(dir, manager)) {
      assertEquals(Backend.TENSOR, Backend.of(half));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> InferenceEngine.builder().model(half).backend(Backend.JAVA).build());
      assertTrue(e.getMessage().contains("fp32"), e.getMessage());
      int[] prompt = {1, 2, 3, 4, 5, 6, 7};
      try (InferenceEngine h = InferenceEngine.builder().model(half).build();
          InferenceEngine f = InferenceEngine.builder().model(full).build()) {
        assertEquals(Backend.TENSOR, h.backend());
        Completion a = get(h.submit(prompt, greedy(6)));
        Completion c = get(f.submit(prompt, greedy(6)));
        // fp16 rounding moves log-probs a little; the first token comes from the same prompt
        assertEquals(c.tokens()[0], a.tokens()[0]);
        assertEquals(c.logprobs()[0], a.logprobs()[0], 2e-2);
      }
    }
  }

  @Test
  void deviceMemoryStaysFlatOverRequestsAndAdapterRefreshes() throws Exception {
    try (Policy policy = Policy.load(Reference.model("tiny-qwen2"))) {
      policy.setAdapter(adapterFor(Reference.model("tiny-qwen2"), policy.config(), policy.manager()));
      try (InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(Backend.TENSOR).build()) {
        TensorDecoder decoder = (TensorDecoder) engine.compute();
        SplittableRandom r = new SplittableRandom(5);
        int baseline = 0;
        for (int round = 0; round < 25; round++) {
          engine.refreshAdapter(); // a new device copy each time: the old ones must go
          List<CompletableFuture<Completion>> fs = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            fs.add(engine.submit(randomPrompt(r, 3 + i, 256), SamplingParams.builder().maxNewTokens(6).seed(i).build()));
          }
          for (CompletableFuture<Completion> f : fs) {
            get(f);
          }
          if (round == 2) {
            baseline = decoder.liveArrays();
          }
        }
        // the copies of earlier adapters go once unreachable (a Cleaner): wait for the collector
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int perAdapter = 2 * 7 * policy.config().numHiddenLayers();
        while (decoder.liveArrays() > baseline + perAdapter && System.nanoTime() < deadline) {
          System.gc();
          Thread.sleep(50);
        }
        assertTrue(decoder.liveArrays() <= baseline + perAdapter,
            "arrays after round 2: " + baseline + ", after 25 rounds: " + decoder.liveArrays());
      }
    }
  }

  @Test
  void aKvCacheTheDeviceCannotHoldNamesTheBudget() throws Exception {
    try (Transformer model = Transformer.load(Reference.model("tiny-qwen2"), manager)) {
      // 2^30 positions: 512 GiB per layer and kind
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> InferenceEngine.builder().model(model).backend(Backend.TENSOR).kvTokenBudget(1 << 30).build());
      assertTrue(e.getMessage().startsWith("out of device memory while allocating the KV cache")
          && e.getMessage().contains("kvTokenBudget"), e.getMessage());
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void onCudaTheTensorBackendEqualsTheJavaBackend(Path dir) throws Exception {
    int gpus = Engine.getInstance().getGpuCount();
    if (gpus == 0) {
      String why = "skipped: DJL's " + Engine.getInstance().getEngineName() + " engine sees no GPU (run with -Pcuda on a machine with one)";
      System.out.println(getClass().getSimpleName() + " " + dir.getFileName() + ": " + why);
      Assumptions.abort(why);
    }
    try (NDManager gpu = NDManager.newBaseManager(Device.gpu());
        Transformer cpuModel = Transformer.load(dir, manager);
        Transformer gpuModel = Transformer.load(ModelConfig.load(dir.resolve("config.json")), Safetensors.open(dir), gpu,
            DataType.FLOAT32);
        Lora cpuLora = adapterFor(dir, cpuModel.config(), manager);
        Lora gpuLora = adapterFor(dir, gpuModel.config(), gpu)) {
      int[][] prompts = prompts(cpuModel.config().vocabSize());
      Completion[][] java;
      try (InferenceEngine engine = InferenceEngine.builder().model(cpuModel).adapter(cpuLora).maxStepTokens(24).build()) {
        java = run(engine, prompts);
      }
      try (InferenceEngine engine = InferenceEngine.builder().model(gpuModel).adapter(gpuLora).maxStepTokens(24).build()) {
        assertEquals(Backend.TENSOR, engine.backend());
        // TF32 matmuls round more than fp32 ones
        assertAgree(java, run(engine, prompts), 1e-3, dir.getFileName() + " on " + Device.gpu());
      }
    }
  }
}
