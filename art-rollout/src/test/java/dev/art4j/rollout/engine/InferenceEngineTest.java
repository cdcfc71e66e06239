package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDManager;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Transformer;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceEngineTest {

  private static NDManager manager;

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

  private static Lora adapterOf(Path dir, Transformer model) throws Exception {
    return Files.isDirectory(dir.resolve("adapter")) ? Lora.load(dir.resolve("adapter"), model.config(), manager) : null;
  }

  private static int[] randomPrompt(SplittableRandom r, int length, int vocab) {
    int[] p = new int[length];
    for (int i = 0; i < length; i++) {
      p[i] = r.nextInt(vocab);
    }
    return p;
  }

  private static Completion get(CompletableFuture<Completion> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @MethodSource("models")
  void greedyEqualsReferenceAloneAndInABatchOfEight(Path dir) throws Exception {
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = adapterOf(dir, model)) {
      int vocab = model.config().vocabSize();
      SplittableRandom r = new SplittableRandom(7);
      int[][] prompts = new int[8][];
      int[] lengths = {1, 5, 17, 33, 9, 2, 26, 16};
      int[] news = {6, 3, 10, 4, 8, 12, 3, 5};
      for (int i = 0; i < 8; i++) {
        prompts[i] = randomPrompt(r, lengths[i], vocab);
      }
      for (Lora adapter : lora == null ? new Lora[] {null} : new Lora[] {null, lora}) {
        int[][] expected = new int[8][];
        for (int i = 0; i < 8; i++) {
          expected[i] = Reference.greedy(model, adapter, prompts[i], news[i], manager);
        }
        try (InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.FP32).adapter(adapter).maxStepTokens(24)
            .prefixCache(false).build()) {
          // alone, one after another
          for (int i = 0; i < 8; i++) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxNewTokens(news[i]).ignoreEos(true).build();
            assertArrayEquals(expected[i], get(engine.submit(prompts[i], p)).tokens(),
                dir.getFileName() + " alone, prompt " + i + (adapter == null ? "" : " with adapter"));
          }
          // together: four start at once, each finished one lets a new one join mid-flight
          List<CompletableFuture<Completion>> futures = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            futures.add(new CompletableFuture<>());
          }
          for (int i = 0; i < 4; i++) {
            chain(engine, prompts, news, futures, i);
          }
          for (int i = 0; i < 8; i++) {
            Completion c = get(futures.get(i));
            assertArrayEquals(expected[i], c.tokens(), dir.getFileName() + " batched, prompt " + i);
            assertEquals(FinishReason.LENGTH, c.finishReason());
            assertEquals(prompts[i].length, c.promptTokens());
          }
          assertEquals(0, engine.kvBlocksInUse(), "every KV block is returned");
        }
      }
    }
  }

  /** Submits request i, and request i + 4 once it completes. */
  private static void chain(InferenceEngine engine, int[][] prompts, int[] news, List<CompletableFuture<Completion>> out, int i) {
    SamplingParams p = SamplingParams.builder().temperature(0).maxNewTokens(news[i]).ignoreEos(true).build();
    engine.submit(prompts[i], p).whenComplete((c, e) -> {
      if (e != null) {
        out.get(i).completeExceptionally(e);
        return;
      }
      out.get(i).complete(c);
      if (i + 4 < prompts.length) {
        chain(engine, prompts, news, out, i + 4);
      }
    });
  }

  @ParameterizedTest
  @MethodSource("models")
  void logprobsEqualLogSoftmaxOfAPlainForward(Path dir) throws Exception {
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = adapterOf(dir, model);
        InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.FP32).adapter(lora).build()) {
      int[] prompt = randomPrompt(new SplittableRandom(3), 11, model.config().vocabSize());
      for (double temperature : new double[] {1.0, 0.7}) {
        SamplingParams p = SamplingParams.builder().temperature(temperature).maxNewTokens(20).ignoreEos(true).seed(5).build();
        Completion c = get(engine.submit(prompt, p));
        assertEquals(20, c.tokens().length);
        int[] all = Reference.concat(prompt, c.tokens());
        float[][] lp = Reference.logSoftmax(model, lora, all, temperature, manager);
        for (int i = 0; i < c.tokens().length; i++) {
          float want = lp[prompt.length - 1 + i][c.tokens()[i]];
          assertEquals(want, c.logprobs()[i], 1e-4, dir.getFileName() + " T=" + temperature + " token " + i);
        }
      }
    }
  }

  @Test
  void samplingFrequenciesMatchTheModelsDistribution() throws Exception {
    int n = 4000;
    int[] prompt = {5, 17, 42};
    // the fixture whose next-token distribution is the most spread gives the strongest test
    Path dir = null;
    int best = -1;
    for (Path m : Reference.models()) {
      try (Transformer model = Transformer.load(m, manager)) {
        int bins = 0;
        for (float v : Reference.logSoftmax(model, null, prompt, 1.0, manager)[prompt.length - 1]) {
          bins += n * Math.exp(v) >= 5 ? 1 : 0;
        }
        if (bins > best) {
          best = bins;
          dir = m;
        }
      }
    }
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.FP32).seed(11).kvTokenBudget(256).build()) {
      float[] lp = Reference.logSoftmax(model, null, prompt, 1.0, manager)[prompt.length - 1];
      List<CompletableFuture<Completion>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        fs.add(engine.submit(prompt, SamplingParams.builder().maxNewTokens(1).build()));
      }
      int[] counts = new int[lp.length];
      for (CompletableFuture<Completion> f : fs) {
        counts[get(f).tokens()[0]]++;
      }
      double[] expected = new double[lp.length];
      for (int t = 0; t < lp.length; t++) {
        expected[t] = Math.exp(lp[t]);
      }
      assertChiSquare(dir + " T=1", counts, expected, n);

      // top-k 40 then top-p 0.9: the renormalised nucleus, computed independently
      SamplingParams truncated = SamplingParams.builder().maxNewTokens(1).topK(40).topP(0.9).build();
      fs.clear();
      for (int i = 0; i < n; i++) {
        fs.add(engine.submit(prompt, truncated));
      }
      int[] counts2 = new int[lp.length];
      for (CompletableFuture<Completion> f : fs) {
        counts2[get(f).tokens()[0]]++;
      }
      Integer[] order = new Integer[lp.length];
      for (int t = 0; t < order.length; t++) {
        order[t] = t;
      }
      java.util.Arrays.sort(order, (a, b) -> Float.compare(lp[b], lp[a]));
      double topK = 0;
      for (int j = 0; j < 40; j++) {
        topK += expected[order[j]];
      }
      double[] nucleus = new double[lp.length];
      double c = 0;
      for (int j = 0; j < 40 && c < 0.9 * topK; j++) {
        nucleus[order[j]] = expected[order[j]];
        c += expected[order[j]];
      }
      for (int t = 0; t < nucleus.length; t++) {
        nucleus[t] /= c;
        if (nucleus[t] == 0) {
          assertEquals(0, counts2[t], "token " + t + " is outside the nucleus");
        }
      }
      assertChiSquare(dir + " top-k 40, top-p 0.9", counts2, nucleus, n);
      assertTrue(engine.kvBlocksAllocated() <= 16, "the cache never grows past its budget of 16 blocks over "
          + n + " requests: " + engine.kvBlocksAllocated());
    }
  }

  /** Pearson's chi-square over ids expected >= 5 times (the rest pooled), at the 99.9% level. */
  private static void assertChiSquare(String what, int[] counts, double[] p, int n) {
    double chi = 0;
    int bins = 0;
    double restExpected = 0;
    int restCount = 0;
    for (int t = 0; t < p.length; t++) {
      double e = n * p[t];
      if (e >= 5) {
        chi += (counts[t] - e) * (counts[t] - e) / e;
        bins++;
      } else {
        restExpected += e;
        restCount += counts[t];
      }
    }
    if (restExpected > 0) {
      chi += (restCount - restExpected) * (restCount - restExpected) / (restExpected + 1e-9);
      bins++;
    }
    int df = bins - 1;
    assertTrue(df >= 2, what + ": the test needs a spread distribution, got " + bins + " bins");
    // Wilson-Hilferty approximation of the chi-square quantile
    double z = 3.09;
    double limit = df * Math.pow(1 - 2.0 / (9 * df) + z * Math.sqrt(2.0 / (9 * df)), 3);
    assertTrue(chi < limit, what + ": chi-square " + chi + " over " + df + " degrees of freedom exceeds " + limit);
  }

  @Test
  void topKAndTopPNeverLeaveTheNucleus() throws Exception {
    Path dir = Reference.model("tiny-qwen3");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.FP32).build()) {
      int[] prompt = {3, 9, 27, 81};
      SamplingParams[] cases = {
        SamplingParams.builder().topK(3).maxNewTokens(15).ignoreEos(true).build(),
        SamplingParams.builder().topP(0.3).maxNewTokens(15).ignoreEos(true).build(),
        SamplingParams.builder().topK(20).topP(0.5).temperature(1.5).maxNewTokens(15).ignoreEos(true).build(),
      };
      for (SamplingParams p : cases) {
        for (int rep = 0; rep < 10; rep++) {
          Completion c = get(engine.submit(prompt, p.toBuilder().seed(rep).build()));
          float[][] lp = Reference.logSoftmax(model, null, Reference.concat(prompt, c.tokens()), p.temperature(), manager);
          for (int i = 0; i < c.tokens().length; i++) {
            float[] dist = lp[prompt.length - 1 + i];
            assertTrue(inNucleus(dist, c.tokens()[i], p), p + ": token " + i + " = " + c.tokens()[i] + " outside the nucleus");
          }
        }
      }
    }
  }

  /** Whether {@code token} is in the top-k, then top-p (of the renormalised top-k) set, with slack 1e-4. */
  private static boolean inNucleus(float[] logprobs, int token, SamplingParams p) {
    int rank = 0;
    for (float v : logprobs) {
      if (v > logprobs[token] + 1e-5) {
        rank++;
      }
    }
    if (p.topK() > 0 && rank >= p.topK()) {
      return false;
    }
    // mass strictly above the token, within the top-k, relative to the top-k's mass
    float[] sorted = logprobs.clone();
    java.util.Arrays.sort(sorted);
    int k = p.topK() > 0 ? p.topK() : sorted.length;
    double total = 0;
    double above = 0;
    for (int i = 0; i < k; i++) {
      double v = Math.exp(sorted[sorted.length - 1 - i]);
      total += v;
      if (sorted[sorted.length - 1 - i] > logprobs[token] + 1e-5) {
        above += v;
      }
    }
    return above / total < p.topP() + 1e-4;
  }

  @Test
  void seededRequestsAreReproducibleWhateverElseRuns() throws Exception {
    Path dir = Reference.model("tiny-llama-bf16");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).build()) {
      int[] prompt = {1, 50, 60, 70};
      SamplingParams p = SamplingParams.builder().temperature(0.9).topP(0.95).maxNewTokens(30).ignoreEos(true).seed(1234).build();
      Completion alone = get(engine.submit(prompt, p));
      List<CompletableFuture<Completion>> others = new ArrayList<>();
      SplittableRandom r = new SplittableRandom(1);
      for (int i = 0; i < 6; i++) {
        others.add(engine.submit(randomPrompt(r, 3 + 7 * i, 256), SamplingParams.builder().maxNewTokens(10 + 5 * i).build()));
      }
      CompletableFuture<Completion> again = engine.submit(prompt, p);
      Completion crowded = get(again);
      for (CompletableFuture<Completion> f : others) {
        get(f);
      }
      assertArrayEquals(alone.tokens(), crowded.tokens());
      assertArrayEquals(alone.logprobs(), crowded.logprobs());
      Completion other = get(engine.submit(prompt, p.toBuilder().seed(4321).build()));
      assertFalse(java.util.Arrays.equals(alone.tokens(), other.tokens()), "another seed samples other tokens");
    }
  }

  @Test
  void prefixSharedGroupEqualsSeparateRequests() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = adapterOf(dir, model);
        InferenceEngine engine = InferenceEngine.builder().model(model).adapter(lora).build()) {
      int[] prompt = randomPrompt(new SplittableRandom(9), 45, 256);
      SamplingParams base = SamplingParams.builder().maxNewTokens(12).ignoreEos(true).build();
      Completion[] separate = new Completion[8];
      for (int i = 0; i < 8; i++) {
        separate[i] = get(engine.submit(prompt, base.toBuilder().seed(i).build()));
      }
      long before = engine.promptRowsComputed();
      List<CompletableFuture<Completion>> group = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        group.add(engine.submit(prompt, base.toBuilder().seed(i).build()));
      }
      for (int i = 0; i < 8; i++) {
        Completion c = get(group.get(i));
        assertArrayEquals(separate[i].tokens(), c.tokens(), "member " + i);
        assertArrayEquals(separate[i].logprobs(), c.logprobs(), "member " + i);
      }
      long rows = engine.promptRowsComputed() - before;
      assertTrue(rows <= prompt.length + 7, "the group's prompt is prefilled once: " + rows + " prompt rows computed");
    }
  }

  @Test
  void theNextTurnOfAConversationPrefillsOnlyTheNewTokens() throws Exception {
    Path dir = Reference.model("tiny-qwen3");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine cached = InferenceEngine.builder().model(model).build();
        InferenceEngine plain = InferenceEngine.builder().model(model).prefixCache(false).build()) {
      int[] history = randomPrompt(new SplittableRandom(4), 40, 256);
      SamplingParams p = SamplingParams.builder().maxNewTokens(10).ignoreEos(true).seed(8).build();
      for (int turn = 0; turn < 3; turn++) {
        long before = cached.promptRowsComputed();
        Completion c = get(cached.submit(history, p));
        assertEquals(get(plain.submit(history, p)), c, "turn " + turn);
        long rows = cached.promptRowsComputed() - before;
        if (turn > 0) {
          assertTrue(rows <= 6, "turn " + turn + " recomputed " + rows + " prompt positions");
        }
        // the next prompt: this one, the completion, and five new "tool result" tokens
        history = Reference.concat(Reference.concat(history, c.tokens()), new int[] {1, 2, 3, 4, 5});
      }
    }
  }

  @Test
  void stopTokenIdsAndEndOfSequenceEndACompletion() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).build()) {
      int[] prompt = {4, 8, 15, 16, 23, 42};
      int[] free = get(engine.submit(prompt, SamplingParams.builder().maxNewTokens(16).ignoreEos(true).seed(2).build())).tokens();
      int stop = free[5];
      int first = 0;
      while (free[first] != stop) {
        first++;
      }
      Completion c = get(engine.submit(prompt,
          SamplingParams.builder().maxNewTokens(16).ignoreEos(true).seed(2).stopTokenIds(List.of(stop)).build()));
      assertEquals(FinishReason.STOP, c.finishReason());
      assertArrayEquals(java.util.Arrays.copyOf(free, first + 1), c.tokens());
      try (InferenceEngine eosEngine = InferenceEngine.builder().model(model).eosTokenIds(List.of(stop)).build()) {
        Completion e = get(eosEngine.submit(prompt, SamplingParams.builder().maxNewTokens(16).seed(2).build()));
        assertArrayEquals(java.util.Arrays.copyOf(free, first + 1), e.tokens());
        assertEquals(FinishReason.STOP, e.finishReason());
      }
    }
  }

  @Test
  void stopStringsEndACompletionOverAPolicysTokenizer() throws Exception {
    Path dir = Reference.model("tiny-chat");
    try (Policy policy = Policy.load(dir);
        InferenceEngine engine = InferenceEngine.builder().policy(policy).build()) {
      Tokenizer tok = policy.tokenizer().orElseThrow();
      int[] prompt = tok.encode("Hello there, how are you?");
      SamplingParams free = SamplingParams.builder().maxNewTokens(24).ignoreEos(true).seed(3).build();
      int[] tokens = get(engine.submit(prompt, free)).tokens();
      String text = tok.decode(tokens);
      // a stop string made of the text of tokens 6..8: the completion must end where it first appears
      String stop = tok.decode(java.util.Arrays.copyOfRange(tokens, 6, 9));
      org.junit.jupiter.api.Assumptions.assumeFalse(stop.isEmpty(), "tokens 6..8 decode to nothing: " + text);
      Completion c = get(engine.submit(prompt, free.toBuilder().stopStrings(List.of(stop)).build()));
      assertEquals(FinishReason.STOP, c.finishReason());
      assertTrue(tok.decode(c.tokens()).contains(stop));
      assertFalse(tok.decode(java.util.Arrays.copyOf(c.tokens(), c.tokens().length - 1)).contains(stop),
          "the completion ends at the token that completes the stop string");
      assertArrayEquals(java.util.Arrays.copyOf(tokens, c.tokens().length), c.tokens());
    }
  }

  @Test
  void anEngineOverAPolicyFollowsItsAdapter() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Policy policy = Policy.builder(dir).adapter(dir.resolve("adapter")).build();
        InferenceEngine engine = InferenceEngine.builder().policy(policy).inferenceDtype(InferenceDtype.FP32).build()) {
      int[] prompt = {9, 8, 7, 6};
      SamplingParams p = SamplingParams.greedy(8).toBuilder().ignoreEos(true).build();
      int[] withAdapter = Reference.greedy(policy.model(), policy.adapter(), prompt, 8, manager);
      int[] base = Reference.greedy(policy.model(), null, prompt, 8, manager);
      assertArrayEquals(withAdapter, get(engine.submit(prompt, p)).tokens());
      Lora previous = policy.setAdapter(null);
      engine.refreshAdapter();
      assertArrayEquals(base, get(engine.submit(prompt, p)).tokens());
      policy.setAdapter(previous);
      engine.refreshAdapter();
      assertArrayEquals(withAdapter, get(engine.submit(prompt, p)).tokens());
    }
  }

  @Test
  void newRequestsUseTheAdapterAfterRefresh() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = Lora.load(dir.resolve("adapter"), model.config(), manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.FP32).adapter(lora).build()) {
      int[] prompt = {7, 7, 7, 100, 3};
      SamplingParams p = SamplingParams.greedy(10).toBuilder().ignoreEos(true).build();
      assertArrayEquals(Reference.greedy(model, lora, prompt, 10, manager), get(engine.submit(prompt, p)).tokens());
      float[] before = get(engine.submit(prompt, SamplingParams.builder().maxNewTokens(10).ignoreEos(true).seed(1).build())).logprobs();
      // a "training step": change every B in place
      for (var b : lora.parameters()) {
        float[] v = b.toFloatArray();
        SplittableRandom r = new SplittableRandom(v.length);
        for (int i = 0; i < v.length; i++) {
          v[i] += (float) (r.nextDouble() - 0.5) * 0.5f;
        }
        b.set(v);
      }
      float[] stale = get(engine.submit(prompt, SamplingParams.builder().maxNewTokens(10).ignoreEos(true).seed(1).build())).logprobs();
      assertArrayEquals(before, stale, "without refresh the snapshot stays");
      engine.refreshAdapter();
      Completion c = get(engine.submit(prompt, SamplingParams.builder().maxNewTokens(10).ignoreEos(true).seed(1).build()));
      float[][] lp = Reference.logSoftmax(model, lora, Reference.concat(prompt, c.tokens()), 1.0, manager);
      for (int i = 0; i < c.tokens().length; i++) {
        assertEquals(lp[prompt.length - 1 + i][c.tokens()[i]], c.logprobs()[i], 1e-4);
      }
      assertFalse(java.util.Arrays.equals(before, c.logprobs()), "the refreshed adapter changed the distribution");
    }
  }

  @Test
  void badRequestsFailWithClearErrors() throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).maxContext(32).kvTokenBudget(64).build()) {
      SamplingParams p = SamplingParams.greedy(4);
      assertMessage(engine.submit(new int[0], p), "empty prompt");
      assertMessage(engine.submit(new int[] {1, 256}, p), "outside the vocabulary [0, 256)");
      assertMessage(engine.submit(new int[] {1, -3}, p), "has id -3");
      assertMessage(engine.submit(new int[32], p), "does not fit the model's context of 32");
      // a prompt at the edge of the context gets the room that is left
      Completion c = get(engine.submit(new int[31], SamplingParams.greedy(10).toBuilder().ignoreEos(true).build()));
      assertEquals(1, c.tokens().length);
      assertEquals(FinishReason.LENGTH, c.finishReason());
    }
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).kvTokenBudget(64).build()) {
      assertMessage(engine.submit(new int[40], SamplingParams.greedy(40)), "over the engine's KV budget of 64 tokens");
      // requests beyond the budget queue and all complete
      List<CompletableFuture<Completion>> fs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        fs.add(engine.submit(new int[] {i + 1, 2, 3}, SamplingParams.greedy(40).toBuilder().ignoreEos(true).build()));
      }
      for (CompletableFuture<Completion> f : fs) {
        assertEquals(40, get(f).tokens().length);
      }
    }
  }

  @Test
  void manyThreadsSubmittingAtOnceGetWhatEachWouldGetAlone() throws Exception {
    Path dir = Reference.model("tiny-qwen3");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).maxBatchSize(6).kvTokenBudget(1024).build()) {
      int threads = 4;
      int each = 12;
      Completion[][] got = new Completion[threads][each];
      List<Thread> ts = new ArrayList<>();
      List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          try {
            List<CompletableFuture<Completion>> fs = new ArrayList<>();
            for (int i = 0; i < each; i++) {
              fs.add(engine.submit(new int[] {id + 1, i + 1, 7}, SamplingParams.builder()
                  .maxNewTokens(3 + i).ignoreEos(true).seed(id * 100L + i).build()));
            }
            for (int i = 0; i < each; i++) {
              got[id][i] = get(fs.get(i));
            }
          } catch (Throwable e) {
            errors.add(e);
          }
        });
        ts.add(th);
        th.start();
      }
      for (Thread th : ts) {
        th.join();
      }
      assertTrue(errors.isEmpty(), errors.toString());
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < each; i += 5) {
          Completion alone = get(engine.submit(new int[] {t + 1, i + 1, 7}, SamplingParams.builder()
              .maxNewTokens(3 + i).ignoreEos(true).seed(t * 100L + i).build()));
          assertEquals(alone, got[t][i], "thread " + t + " request " + i);
        }
      }
    }
  }

  /** On either backend: a cancelled request frees its KV blocks for the request that waited. */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void aCancelledRequestGivesBackItsRoom(Backend backend) throws Exception {
    Path dir = Reference.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).backend(backend).kvTokenBudget(4096)
            .prefixCache(false).build()) {
      CompletableFuture<Completion> hog = engine.submit(new int[] {1, 2, 3},
          SamplingParams.builder().maxNewTokens(4000).ignoreEos(true).build());
      CompletableFuture<Completion> next = engine.submit(new int[] {4, 5, 6},
          SamplingParams.builder().maxNewTokens(100).ignoreEos(true).build());
      // cancel as soon as the hog holds its blocks: a fixed wait could let it finish first on a loaded machine
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (engine.kvBlocksInUse() == 0) {
        assertTrue(System.nanoTime() < deadline, "the long request was never admitted");
        Thread.sleep(1);
      }
      assertFalse(next.isDone(), "the budget holds one request at a time");
      assertTrue(hog.cancel(false), "the long request was still running");
      assertEquals(100, get(next).tokens().length);
      assertEquals(0, engine.kvBlocksInUse());
    }
  }

  private static void assertMessage(CompletableFuture<Completion> f, String part) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains(part), e.getCause().getMessage());
  }
}
