package dev.art4j.rollout.engine;

import dev.art4j.rollout.completion.SamplingParams;
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
  private long[] keys = new long[0];

  /** Samples from {@code logits[off .. off+vocab)}; writes the log-prob to {@code logprob[0]}. */
  int sample(float[] logits, int off, int vocab, SamplingParams p, SplittableRandom rng, float[] logprob) {
    return sample(logits, off, vocab, p, rng, logprob, null, null);
  }

  /**
   * {@link #sample(float[], int, int, SamplingParams, SplittableRandom, float[])}, also writing the
   * {@code topIds.length} most likely ids (most likely first, the smaller id first among equals)
   * and their log-probs under the same distribution as the sampled token's.
   */
  int sample(float[] logits, int off, int vocab, SamplingParams p, SplittableRandom rng, float[] logprob,
      int[] topIds, float[] topLogprobs) {
    if (probs.length < vocab) {
      probs = new float[vocab];
      keys = new long[vocab];
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
    if (topIds != null && topIds.length > 0) {
      top(logits, off, vocab, topIds);
      for (int j = 0; j < topIds.length; j++) {
        topLogprobs[j] = (float) ((logits[off + topIds[j]] - max) * (float) (1.0 / temperature) - logSum);
      }
    }
    return token;
  }

  /** The {@code ids.length} largest logits' ids, largest first: an insertion into a short sorted list. */
  private static void top(float[] logits, int off, int vocab, int[] ids) {
    int k = Math.min(ids.length, vocab);
    int n = 0;
    for (int i = 0; i < vocab; i++) {
      float z = logits[off + i];
      if (n == k && !(z > logits[off + ids[k - 1]])) {
        continue;
      }
      int at = n < k ? n++ : k - 1;
      while (at > 0 && z > logits[off + ids[at - 1]]) {
        ids[at] = ids[at - 1];
        at--;
      }
      ids[at] = i;
    }
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
      float v = probs[i];
      if (v >= floor && v > 0) {
        // a primitive sort key: a non-negative float's bits order like its value; among equal
        // values the smaller id sorts later, so it comes first in the descending walk below
        keys[n++] = ((long) Float.floatToRawIntBits(v) << 32) | (0xFFFFFFFFL - i);
      }
    }
    Arrays.sort(keys, 0, n);
    // keys[n-1], keys[n-2], ... is descending probability
    int keep = p.topK() > 0 ? Math.min(n, p.topK()) : n;
    double mass = 0;
    for (int j = 0; j < keep; j++) {
      mass += probs[id(keys[n - 1 - j])];
    }
    if (p.topP() < 1) {
      double need = p.topP() * mass;
      double c = 0;
      int k = 0;
      while (k < keep) {
        c += probs[id(keys[n - 1 - k])];
        k++;
        if (c >= need) {
          break;
        }
      }
      keep = k;
      mass = c;
    }
    double target = rng.nextDouble() * mass;
    double c = 0;
    for (int j = 0; j < keep; j++) {
      int token = id(keys[n - 1 - j]);
      c += probs[token];
      if (c > target) {
        return token;
      }
    }
    return id(keys[n - keep]);
  }

  private static int id(long key) {
    return (int) (0xFFFFFFFFL - (key & 0xFFFFFFFFL));
  }
}
