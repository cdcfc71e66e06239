package dev.art4j.rollout.engine;

import dev.art4j.rollout.completion.SamplingParams;
import java.util.Map;
import java.util.Set;

/**
 * Changes a row of logits before sampling, as vLLM's sampler does, in this order:
 * repetition penalty {@code r} on every id seen in the prompt or the completion
 * ({@code z > 0 ? z / r : z * r}), then {@code z -= frequencyPenalty * count + presencePenalty * [count > 0]}
 * over the completion's ids, then {@code z += logitBias[id]}, then, while fewer than
 * {@code minTokens} tokens were sampled, {@code z = -inf} for end-of-sequence and stop ids (not
 * once a constraint's text is complete: the constraint then allows nothing else).
 * Stateless; the caller owns the logits row.
 */
final class LogitsProcessor {

  private LogitsProcessor() {}

  /**
   * @param tokens    prompt then completion ids ({@code tokens[0 .. length)})
   * @param promptLen where the completion starts in {@code tokens}
   * @param mayEnd    whether the end ids may be sampled whatever {@code minTokens} says
   */
  static void apply(float[] logits, int off, int vocab, SamplingParams p, int[] tokens, int promptLen, int length,
      Set<Integer> eos, boolean mayEnd) {
    if (p.repetitionPenalty() != 1) {
      float r = (float) p.repetitionPenalty();
      boolean[] seen = new boolean[vocab];
      for (int i = 0; i < length; i++) {
        int t = tokens[i];
        if (!seen[t]) {
          seen[t] = true;
          float z = logits[off + t];
          logits[off + t] = z > 0 ? z / r : z * r;
        }
      }
    }
    if (p.presencePenalty() != 0 || p.frequencyPenalty() != 0) {
      int[] count = new int[vocab];
      for (int i = promptLen; i < length; i++) {
        count[tokens[i]]++;
      }
      for (int i = promptLen; i < length; i++) {
        int t = tokens[i];
        if (count[t] > 0) {
          logits[off + t] -= (float) (p.frequencyPenalty() * count[t] + p.presencePenalty());
          count[t] = 0; // each id once
        }
      }
    }
    for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) {
      int t = e.getKey();
      if (t >= 0 && t < vocab) {
        logits[off + t] += e.getValue();
      }
    }
    if (length - promptLen < p.minTokens() && !mayEnd) {
      if (!p.ignoreEos()) {
        for (int t : eos) {
          if (t >= 0 && t < vocab) {
            logits[off + t] = Float.NEGATIVE_INFINITY;
          }
        }
      }
      for (int t : p.stopTokenIds()) {
        if (t >= 0 && t < vocab) {
          logits[off + t] = Float.NEGATIVE_INFINITY;
        }
      }
    }
  }
}
