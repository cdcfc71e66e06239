package dev.art4j.examples.cli;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

/** Temperature and nucleus (top-p) sampling over one row of logits, for the command line. */
final class Sampling {

  private Sampling() {}

  /** {@code log softmax(logits)[index]}, in double precision. */
  static double logSoftmax(float[] logits, int index) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : logits) {
      sum += Math.exp(v - max);
    }
    return logits[index] - max - Math.log(sum);
  }

  /**
   * Temperature 0: the arg-max (lowest id on ties). Otherwise sample from
   * {@code softmax(logits / T)} restricted to the smallest set of most likely tokens whose
   * probability reaches {@code topP}.
   */
  static int sample(float[] logits, double temperature, double topP, Random random) {
    if (temperature == 0) {
      int best = 0;
      for (int i = 1; i < logits.length; i++) {
        if (logits[i] > logits[best]) {
          best = i;
        }
      }
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      sum += p[i];
    }
    Integer[] order = IntStream.range(0, p.length).boxed().toArray(Integer[]::new);
    final double[] probs = p;
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -probs[i]));
    int keep = 0;
    double mass = 0;
    while (keep < order.length && (keep == 0 || mass < topP * sum)) {
      mass += p[order[keep]];
      keep++;
    }
    double r = random.nextDouble() * mass;
    for (int k = 0; k < keep; k++) {
      r -= p[order[k]];
      if (r <= 0) {
        return order[k];
      }
    }
    return order[keep - 1];
  }
}
