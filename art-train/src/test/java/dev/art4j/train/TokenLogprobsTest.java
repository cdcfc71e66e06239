package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.art4j.core.model.Policy;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenLogprobs} (chunked, gradient through a surrogate) against the plain autograd path
 * it replaced ({@code logSoftmax(head(h)).gather(targets)}), on the tiny Qwen2 fixture with its
 * PEFT adapter: the same log-probs and the same LoRA gradients of a weighted sum of them, for
 * chunks of one row, of a few rows and of all rows at once, each against the head a vocabulary
 * block at a time (one token up to the whole vocabulary).
 */
class TokenLogprobsTest {

  @Test
  void chunkedLogprobsAndGradientsEqualTheFullVocabularyAutogradPath() throws Exception {
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build()) {
      Result full = run(policy, (hidden, targets) ->
          policy.model().logits(hidden).logSoftmax(-1).gather(targets, 1).reshape(-1));
      int vocab = policy.config().vocabSize();
      // rows per chunk x vocabulary tokens per block: one row, a few, all; blocks of one token,
      // of a few (the online softmax rescales at almost every block), of a part, of the whole vocabulary
      long[][] chunkings = {{1, vocab}, {3, 7}, {1000, 1}, {5, vocab / 3 + 1}, {1000, vocab}, {4, 100}};
      for (long[] chunking : chunkings) {
        String chunk = chunking[0] + " rows x " + chunking[1] + " tokens";
        Result chunked = run(policy, (hidden, targets) ->
            TokenLogprobs.of(policy.model(), hidden, targets, null, chunking[0], chunking[1], true));
        for (int k = 0; k < full.logprobs.length; k++) {
          // fp32 rounding of a differently blocked matmul: relative, log-probs reach -30 here
          assertEquals(full.logprobs[k], chunked.logprobs[k], 1e-6 * (1 + Math.abs(full.logprobs[k])),
              "chunk " + chunk + " log-prob " + k);
        }
        double worst = 0;
        double largest = 0;
        for (int p = 0; p < full.grads.length; p++) {
          for (int e = 0; e < full.grads[p].length; e++) {
            double a = full.grads[p][e];
            worst = Math.max(worst, Math.abs(a - chunked.grads[p][e]));
            largest = Math.max(largest, Math.abs(a));
          }
        }
        assertTrue(largest > 1e-3, "gradients too small to compare: " + largest);
        assertTrue(worst <= 1e-5 * largest + 1e-7, "chunk " + chunk + ": gradients differ by " + worst
            + " (largest " + largest + ")");
      }
    }
  }

  /**
   * At per-row sampling temperatures the surrogate is the autograd path of
   * {@code logSoftmax(head(h) / T)}: values and LoRA gradients (the {@code 1 / T} in g).
   */
  @Test
  void temperedLogprobsAndGradientsEqualTheAutogradPathAtEachRowsTemperature() throws Exception {
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build();
        NDManager temps = policy.manager().newSubManager()) {
      float[] t = new float[14];
      for (int i = 0; i < t.length; i++) {
        t[i] = new float[] {0.5f, 0.7f, 1.3f}[i % 3];
      }
      NDArray temperature = temps.create(t, new Shape(14, 1));
      Result full = run(policy, (hidden, targets) ->
          policy.model().logits(hidden).div(temperature).logSoftmax(-1).gather(targets, 1).reshape(-1));
      Result untempered = run(policy, (hidden, targets) -> TokenLogprobs.of(policy.model(), hidden, targets));
      Result chunked = run(policy, (hidden, targets) -> TokenLogprobs.of(policy.model(), hidden, targets, temperature, 3, 50, true));
      double moved = 0;
      for (int k = 0; k < full.logprobs.length; k++) {
        assertEquals(full.logprobs[k], chunked.logprobs[k], 1e-6 * (1 + Math.abs(full.logprobs[k])), "log-prob " + k);
        moved = Math.max(moved, Math.abs(full.logprobs[k] - untempered.logprobs[k]));
      }
      assertTrue(moved > 0.1, "temperatures should change the log-probs, largest change " + moved);
      double worst = 0;
      double largest = 0;
      for (int p = 0; p < full.grads.length; p++) {
        for (int e = 0; e < full.grads[p].length; e++) {
          worst = Math.max(worst, Math.abs(full.grads[p][e] - chunked.grads[p][e]));
          largest = Math.max(largest, Math.abs(full.grads[p][e]));
        }
      }
      assertTrue(largest > 1e-3, "gradients too small to compare: " + largest);
      assertTrue(worst <= 1e-5 * largest + 1e-7, "gradients differ by " + worst + " (largest " + largest + ")");
    }
  }

  /** The reference pass's values-only variant (no softmax W matmul) gives exactly the same log-probs. */
  @Test
  void valuesOnlyLogprobsEqualTheGradientPathsValues() throws Exception {
    try (Policy policy = Policy.builder(Tiny.model("tiny-qwen2")).adapter(Tiny.model("tiny-qwen2").resolve("adapter")).build();
        NDManager m = policy.manager().newSubManager()) {
      int vocab = policy.config().vocabSize();
      SplittableRandom random = new SplittableRandom(5);
      long[] ids = random.longs(14, 0, vocab).toArray();
      long[] targets = random.longs(14, 0, vocab).toArray();
      NDArray positions = m.arange(0, 7).toType(ai.djl.ndarray.types.DataType.INT64, false).reshape(1, 7).repeat(0, 2);
      NDArray hidden = policy.model().hidden(m.create(ids, new Shape(2, 7)), positions, null, null, policy.adapter())
          .reshape(14, -1);
      NDArray t = m.create(targets, new Shape(14, 1));
      assertArrayEquals(TokenLogprobs.of(policy.model(), hidden, t).toFloatArray(),
          TokenLogprobs.valuesOf(policy.model(), hidden, t).toFloatArray());
    }
  }

  /** Log-probs of random targets after a random prompt, and the LoRA gradients of sum(w * lp). */
  private static Result run(Policy policy, BiFunction<NDArray, NDArray, NDArray> logprobs) {
    int vocab = policy.config().vocabSize();
    SplittableRandom random = new SplittableRandom(11);
    int b = 2;
    int t = 7;
    long[] ids = new long[b * t];
    long[] targets = new long[b * t];
    float[] weights = new float[b * t];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(vocab);
      targets[i] = random.nextInt(vocab);
      weights[i] = (float) (random.nextDouble() * 2 - 1);
    }
    List<NDArray> params = policy.adapter().parameters();
    try (NDManager m = policy.manager().newSubManager()) {
      float[] lp;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray input = m.create(ids, new Shape(b, t));
        NDArray positions = m.arange(0, t).toType(ai.djl.ndarray.types.DataType.INT64, false).reshape(1, t).repeat(0, b);
        NDArray hidden = policy.model().hidden(input, positions, null, null, policy.adapter()).reshape(b * t, -1);
        NDArray out = logprobs.apply(hidden, m.create(targets, new Shape(b * t, 1)));
        lp = out.toFloatArray();
        gc.backward(out.mul(m.create(weights)).sum());
      }
      float[][] grads = new float[params.size()][];
      for (int i = 0; i < params.size(); i++) {
        NDArray g = params.get(i).getGradient();
        g.attach(m);
        grads[i] = g.toFloatArray();
        g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
      }
      return new Result(lp, grads);
    }
  }

  private record Result(float[] logprobs, float[][] grads) {}
}
