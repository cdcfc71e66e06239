package dev.art4j.rollout.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws one token from a row of logits, as Hugging Face's logits warpers do it: temperature,
 * then top-k, then top-p over the renormalised top-k, then a draw proportional to what is
 * left. Also returns the token's log-probability under the temperature-scaled distribution
 * before truncation, {@code z_t / T - logsumexp(z / T)}; for greedy decoding (temperature 0)
 * the argmax and its log-probability at temperature 1.
 *
 * <p>Not thread-safe (scratch arrays): one sampler per thread.
 */
final class Sampler {

  private final Kernels kernels = Kernels.best();
  private float[] probs = new float[0];
  private Integer[] order = new Integer[0];
  private int[] kept = new int[0];

  /** Samples from {@code logits[off .. off+vocab)}; writes the log-prob to {@code logprob[0]}. */
  int sample(float[] logits, int off, int vocab, SamplingParams p, SplittableRandom rng, float[] logprob) {
    if (probs.length < vocab) {
      probs = new float[vocab];
      kept = new int[vocab];
    }
    double temperature = p.temperature() == 0 ? 1.0 : p.temperature();
    float max = Float.NEGATIVE_INFINITY;
    int argmax = 0;
    for (int i = 0; i < vocab; i++) {
      float z = logits[off + i];
      if (z > max) {
        max = z;
        argmax = i;
      }
    }
    // p_i proportional to exp((z_i - max) / T)
    double sum = kernels.expShifted(logits, off, vocab, max, (float) (1.0 / temperature), probs);
    double logSum = Math.log(sum);
    int token;
    if (p.temperature() == 0) {
      token = argmax;
    } else if (p.topK() == 0 && p.topP() >= 1) {
      token = draw(rng.nextDouble() * sum, vocab);
    } else {
      token = truncated(p, vocab, sum, rng);
    }
    logprob[0] = (float) ((logits[off + token] - max) * (float) (1.0 / temperature) - logSum);
    return token;
  }

  private int draw(double target, int vocab) {
    double c = 0;
    int last = 0;
    for (int i = 0; i < vocab; i++) {
      if (probs[i] > 0) {
        c += probs[i];
        last = i;
        if (c > target) {
          return i;
        }
      }
    }
    return last; // rounding left target just above the total
  }

  /** Top-k, then top-p over the renormalised survivors, then a draw. */
  private int truncated(SamplingParams p, int vocab, double sum, SplittableRandom rng) {
    // candidates: ids that can be in the nucleus. Ids with p_i < (1 - topP) / vocab hold less
    // than 1 - topP in all, so the nucleus never needs them: filtering first keeps the sort small.
    double floor = p.topK() == 0 ? (1 - p.topP()) / vocab * sum : 0;
    int n = 0;
    for (int i = 0; i < vocab; i++) {
      if (probs[i] >= floor && probs[i] > 0) {
        kept[n++] = i;
      }
    }
    if (order.length < n) {
      order = new Integer[Math.max(n, 2 * order.length)];
    }
    for (int i = 0; i < n; i++) {
      order[i] = kept[i];
    }
    float[] pr = probs;
    // descending probability, ties by id (stable and deterministic)
    Arrays.sort(order, 0, n, (x, y) -> pr[x] != pr[y] ? Float.compare(pr[y], pr[x]) : Integer.compare(x, y));
    if (p.topK() > 0) {
      n = Math.min(n, p.topK());
    }
    double mass = 0;
    for (int i = 0; i < n; i++) {
      mass += pr[order[i]];
    }
    if (p.topP() < 1) {
      double need = p.topP() * mass;
      double c = 0;
      int keep = 0;
      while (keep < n) {
        c += pr[order[keep]];
        keep++;
        if (c >= need) {
          break;
        }
      }
      n = keep;
      mass = c;
    }
    double target = rng.nextDouble() * mass;
    double c = 0;
    for (int i = 0; i < n; i++) {
      c += pr[order[i]];
      if (c > target) {
        return order[i];
      }
    }
    return order[n - 1];
  }
}
