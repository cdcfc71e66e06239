package dev.art4j.rollout.engine;

import java.util.Set;

/**
 * One output row sampled on the host: the request's logit processing ({@link LogitsProcessor}:
 * logit bias, penalties, min tokens), then its constraint's mask (constrained decoding), then
 * the {@link Sampler}, with the top log-probs its
 * listener asked for. The Java backend samples every row so; the tensor backend the rows that
 * {@link DeviceSampler#needsHost} sends to the host.
 */
final class HostSampling {

  private HostSampling() {}

  /**
   * @param logits   the row's logits at {@code [off, off + vocab)}, processed in place
   * @param eos      the engine's end-of-sequence ids (min tokens holds them back)
   * @param logprob  receives the sampled token's log-prob at {@code [0]}
   * @param topIds   receives the most likely ids (its length is how many), may be empty
   * @param topLps   receives their log-probs
   * @return the sampled id
   */
  static int sample(Sampler sampler, float[] logits, int off, int vocab, Sequence q, Set<Integer> eos,
      float[] logprob, int[] topIds, float[] topLps) {
    if (q.params.processesLogits()) {
      boolean complete = q.matcher != null && q.matcher.complete();
      LogitsProcessor.apply(logits, off, vocab, q.params, q.tokens, q.prompt.length, q.length, eos, complete);
      if (q.matcher != null) {
        mask(logits, off, vocab, q, eos, complete);
      }
    }
    return sampler.sample(logits, off, vocab, q.params, q.rng, logprob, topIds, topLps);
  }

  /**
   * The constraint's mask: {@code -inf} for every id it does not allow next, and for the end ids
   * unless its text is complete. Applied after the logit processing and before temperature,
   * top-k and top-p, so the sampled distribution and the log-probs returned are the masked ones.
   */
  private static void mask(float[] logits, int off, int vocab, Sequence q, Set<Integer> eos, boolean complete) {
    boolean[] allowed = new boolean[vocab];
    q.matcher.allow(allowed);
    boolean any = false;
    for (int i = 0; i < vocab && !any; i++) {
      any = allowed[i] && logits[off + i] != Float.NEGATIVE_INFINITY;
    }
    if (complete || !any) {
      // complete: the reply may end. Nothing allowed (a vocabulary that cannot spell what must
      // come, or logit bias of -inf on all of it): end the reply rather than sample outside it
      for (int t : eos) {
        if (t >= 0 && t < vocab && q.ends(t, eos)) {
          allowed[t] = true;
        }
      }
      for (int t : q.params.stopTokenIds()) {
        if (t >= 0 && t < vocab) {
          allowed[t] = true;
        }
      }
    }
    for (int i = 0; i < vocab; i++) {
      if (!allowed[i]) {
        logits[off + i] = Float.NEGATIVE_INFINITY;
      }
    }
  }
}
