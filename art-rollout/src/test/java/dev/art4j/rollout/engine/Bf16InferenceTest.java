package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDManager;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Transformer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accuracy of {@link InferenceDtype#BF16} against {@link InferenceDtype#FP32} on every fixture
 * checkpoint (with its adapter where it has one): the same greedy tokens, and log-probs of what
 * is sampled within 3e-2 (measured: up to 0.028 on tiny-qwen3 and 0.017 on tiny-qwen2, whose
 * weights are stored in fp32; the 2e-2 bar does not hold there, which is why the default
 * is {@link InferenceDtype#AUTO}: bf16 only where it loses nothing, as for tiny-llama-bf16). A
 * bf16 row gives the same bits alone or in a batch.
 */
class Bf16InferenceTest {

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

  private static Completion get(CompletableFuture<Completion> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static int[] prompt(SplittableRandom r, int length, int vocab) {
    int[] p = new int[length];
    for (int i = 0; i < length; i++) {
      p[i] = r.nextInt(vocab);
    }
    return p;
  }

  @ParameterizedTest
  @MethodSource("models")
  void bf16GivesTheGreedyTokensOfFp32AndLogprobsWithin3e2AndAutoLosesNothing(Path dir) throws Exception {
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = Files.isDirectory(dir.resolve("adapter")) ? Lora.load(dir.resolve("adapter"), model.config(), manager) : null) {
      int vocab = model.config().vocabSize();
      for (Lora adapter : lora == null ? new Lora[] {null} : new Lora[] {null, lora}) {
        String what = dir.getFileName() + (adapter == null ? "" : " with adapter");
        try (InferenceEngine fp32 = InferenceEngine.builder().model(model).adapter(adapter).inferenceDtype(InferenceDtype.FP32).build();
            InferenceEngine bf16 = InferenceEngine.builder().model(model).adapter(adapter).inferenceDtype(InferenceDtype.BF16).build();
            InferenceEngine auto = InferenceEngine.builder().model(model).adapter(adapter).build()) {
          boolean storedInBf16 = dir.getFileName().toString().contains("bf16");
          assertEquals(storedInBf16 ? InferenceDtype.BF16 : InferenceDtype.FP32, auto.inferenceDtype(), what + ": auto");
          SplittableRandom r = new SplittableRandom(17);
          double worst = 0;
          for (int i = 0; i < 6; i++) {
            int[] p = prompt(r, 1 + r.nextInt(40), vocab);
            SamplingParams greedy = SamplingParams.greedy(24).toBuilder().ignoreEos(true).build();
            Completion want = get(fp32.submit(p, greedy));
            Completion got = get(bf16.submit(p, greedy));
            assertArrayEquals(want.tokens(), got.tokens(), what + ", greedy, prompt " + i);
            Completion byAuto = get(auto.submit(p, greedy));
            assertArrayEquals(want.tokens(), byAuto.tokens(), what + ", auto, greedy, prompt " + i);
            if (storedInBf16) { // nothing rounded: only the order of the sums differs
              assertTrue(maxDiff(want.logprobs(), byAuto.logprobs()) < 1e-4, what + ": auto (bf16) vs fp32");
            } else {
              assertArrayEquals(want.logprobs(), byAuto.logprobs(), what + ": auto is fp32 here");
            }
            worst = Math.max(worst, maxDiff(want.logprobs(), got.logprobs()));
            // sampled at T=1: the same seed draws the same tokens unless a draw falls within the
            // logprob difference of a boundary, so compare wherever the two agree so far
            SamplingParams sampled = SamplingParams.builder().temperature(1.0).maxNewTokens(24).ignoreEos(true).seed(i).build();
            Completion a = get(fp32.submit(p, sampled));
            Completion b = get(bf16.submit(p, sampled));
            for (int t = 0; t < a.tokens().length && a.tokens()[t] == b.tokens()[t]; t++) {
              worst = Math.max(worst, Math.abs(a.logprobs()[t] - b.logprobs()[t]));
            }
          }
          assertTrue(worst < 3e-2, what + ": bf16 log-probs differ from fp32 by up to " + worst);
          assertTrue(worst > 0, what + ": bf16 gave fp32's log-probs to the bit: is it reading bf16 weights?");
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void bf16RowsGiveTheSameBitsAloneAndInABatch(Path dir) throws Exception {
    try (Transformer model = Transformer.load(dir, manager);
        InferenceEngine engine = InferenceEngine.builder().model(model).inferenceDtype(InferenceDtype.BF16).maxStepTokens(24)
            .prefixCache(false).build()) {
      int vocab = model.config().vocabSize();
      SplittableRandom r = new SplittableRandom(9);
      int[][] prompts = new int[8][];
      for (int i = 0; i < 8; i++) {
        prompts[i] = prompt(r, 1 + r.nextInt(30), vocab);
      }
      SamplingParams p = SamplingParams.builder().temperature(0.9).maxNewTokens(12).ignoreEos(true).seed(3).build();
      Completion[] alone = new Completion[8];
      for (int i = 0; i < 8; i++) {
        alone[i] = get(engine.submit(prompts[i], p));
      }
      List<CompletableFuture<Completion>> together = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        together.add(engine.submit(prompts[i], p));
      }
      for (int i = 0; i < 8; i++) {
        assertEquals(alone[i], get(together.get(i)), dir.getFileName() + " prompt " + i + " alone vs in a batch of 8");
      }
    }
  }

  private static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
