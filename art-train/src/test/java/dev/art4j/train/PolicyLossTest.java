package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * Each loss variant on a small batch against the formulas evaluated by hand (plain double
 * arithmetic, one token at a time): loss value and gradient with respect to the new log-probs.
 * The batch has ratios far from 1 on both sides, both advantage signs, and clipping active.
 */
class PolicyLossTest {

  // 3 sequences x 4 positions; position 0 of each is a prompt token (not sampled),
  // the last position of sequence 2 is padding; NEW at unsampled positions must not matter
  static final float[][] NEW = {
      {-9.0f, -0.5f, -1.2f, -2.0f},
      {-9.0f, -0.1f, -3.0f, -0.7f},
      {-9.0f, -1.5f, -0.2f, 0.0f}};
  static final float[][] OLD = {
      {0f, -0.9f, -0.3f, -2.1f},   // ratios e^0.4 = 1.49, e^-0.9 = 0.41, e^0.1 = 1.11
      {0f, -2.5f, -1.0f, -0.7f},   // e^2.4 = 11.0, e^-2 = 0.135, 1
      {0f, -1.4f, -1.9f, 0f}};     // e^-0.1 = 0.905, e^1.7 = 5.47
  static final float[][] MASK = {{0, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 1, 0}};
  static final float[] ADV = {1.3f, -0.8f, 0.5f};

  static int count(int i) {
    int n = 0;
    for (float m : MASK[i]) {
      n += (int) m;
    }
    return n;
  }

  /** Default aggregation weights: 1 / (n_i * N). */
  static float[][] defaultWeights() {
    float[][] w = new float[3][4];
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        w[i][t] = MASK[i][t] / (count(i) * 3f);
      }
    }
    return w;
  }

  /**
   * Loss and d loss / d newLogp from the NDArray implementation, fed the sampled tokens of the
   * (B, T) batch above flattened to (K), as the trainer does.
   */
  static double[] run(PolicyLoss loss, float[][] tokenW, float[] seqW, boolean withRef, double[][] gradOut) {
    int k = 0;
    for (int i = 0; i < 3; i++) {
      k += count(i);
    }
    float[] newF = new float[k];
    float[] oldF = new float[k];
    float[] advF = new float[k];
    float[] wF = new float[k];
    float[] seg = new float[3 * k];
    int[][] slot = new int[3][4];
    int j = 0;
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        slot[i][t] = -1;
        if (MASK[i][t] != 0) {
          newF[j] = NEW[i][t];
          oldF[j] = OLD[i][t];
          advF[j] = ADV[i];
          wF[j] = tokenW[i][t];
          seg[i * k + j] = 1f;
          slot[i][t] = j++;
        }
      }
    }
    float[] inv = new float[3];
    for (int i = 0; i < 3; i++) {
      inv[i] = 1f / count(i);
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray newLogp = m.create(newF);
      newLogp.setRequiresGradient(true);
      double value;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        PolicyLoss.Output out = loss.compute(new PolicyLoss.Inputs(
            newLogp, m.create(oldF), m.create(advF), m.create(wF),
            m.create(seg, new Shape(3, k)), m.create(ADV, new Shape(3, 1)),
            m.create(seqW, new Shape(3, 1)), m.create(inv, new Shape(3, 1)),
            withRef ? m.create(oldF) : null));
        value = out.loss().getFloat();
        gc.backward(out.loss());
      }
      float[] g = newLogp.getGradient().toFloatArray();
      for (int i = 0; i < 3; i++) {
        for (int t = 0; t < 4; t++) {
          gradOut[i][t] = slot[i][t] < 0 ? 0.0 : g[slot[i][t]];
        }
      }
      return new double[] {value};
    }
  }

  static double clip(double x, double lo, double hi) {
    return Math.max(lo, Math.min(hi, x));
  }

  /** Per-token PPO surrogate and its derivative with respect to logp_new, by hand. */
  static double[] ppoToken(double r, double a, double lo, double hi) {
    double unclipped = r * a;
    double clipped = clip(r, lo, hi) * a;
    if (unclipped <= clipped) {
      return new double[] {-unclipped, -r * a}; // d(r)/d(logp) = r
    }
    return new double[] {-clipped, 0.0}; // clipped branch is flat
  }

  static void assertTokenLoss(LossType type, double lo, double hi, float[][] w) {
    double expected = 0;
    double[][] expectedGrad = new double[3][4];
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        if (MASK[i][t] == 0) {
          continue;
        }
        double r = Math.exp(NEW[i][t] - OLD[i][t]);
        double a = ADV[i];
        if (type == LossType.CISPO) {
          double coef = clip(r, lo, hi);
          expected += w[i][t] * -coef * a * NEW[i][t];
          expectedGrad[i][t] = w[i][t] * -coef * a;
        } else {
          double[] l = ppoToken(r, a, lo, hi);
          expected += w[i][t] * l[0];
          expectedGrad[i][t] = w[i][t] * l[1];
        }
      }
    }
    double[][] grad = new double[3][4];
    double got = run(new PolicyLoss(type, 1 - lo, hi - 1, 0), w, new float[3], false, grad)[0];
    assertEquals(expected, got, 1e-5 * Math.max(1, Math.abs(expected)), type + " loss");
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        assertEquals(expectedGrad[i][t], grad[i][t], 1e-5, type + " grad at " + i + "," + t);
      }
    }
  }

  @Test
  void cispoClipsTheStopGradientWeightOnly() {
    TrainConfig c = TrainConfig.builder().lossType(LossType.CISPO).build();
    assertEquals(1.0, c.effectiveEpsilon());
    assertEquals(4.0, c.effectiveEpsilonHigh());
    // ratio 11.0 > 1 + 4: clipped to 5, but that token still has a gradient (CISPO's point)
    assertTokenLoss(LossType.CISPO, 0.0, 5.0, defaultWeights());
    // tighter range so the low side clips as well (ratio 0.135 < 0.5)
    assertTokenLoss(LossType.CISPO, 0.5, 1.2, defaultWeights());
  }

  @Test
  void cispoByHandLiteral() {
    // sequence 1 only matters for this literal: A = -0.8, n = 3, N = 3 -> w = 1/9.
    // tokens: r = e^2.4 -> coef 5 (clipped): -5 * -0.8 * -0.1 = -0.4
    //         r = e^-2 = 0.1353 -> coef 0.1353: -0.1353 * -0.8 * -3.0 = -0.32480
    //         r = 1 -> coef 1: -1 * -0.8 * -0.7 = -0.56
    // sum -1.28480 / 9 = -0.142756
    float[][] w = new float[3][4];
    for (int t = 1; t < 4; t++) {
      w[1][t] = 1f / 9f;
    }
    double got = run(new PolicyLoss(LossType.CISPO, 1.0, 4.0, 0), w, new float[3], false, new double[3][4])[0];
    assertEquals(-(0.4 + 0.8 * 3.0 * Math.exp(-2) + 0.56) / 9.0, got, 1e-6);
  }

  @Test
  void ppoClipsOnlyInTheDirectionOfTheAdvantage() {
    TrainConfig c = TrainConfig.builder().lossType(LossType.PPO).build();
    assertEquals(0.2, c.effectiveEpsilon());
    assertEquals(0.2, c.effectiveEpsilonHigh());
    assertEquals(0.3, TrainConfig.builder().lossType(LossType.PPO).epsilon(0.3).build().effectiveEpsilonHigh());
    assertTokenLoss(LossType.PPO, 0.8, 1.2, defaultWeights());
    // count the active branches so the batch provably exercises both
    int clippedPos = 0;
    int clippedNeg = 0;
    for (int i = 0; i < 3; i++) {
      for (int t = 1; t < 4; t++) {
        if (MASK[i][t] == 0) {
          continue;
        }
        double r = Math.exp(NEW[i][t] - OLD[i][t]);
        if (ppoToken(r, ADV[i], 0.8, 1.2)[1] == 0.0) {
          if (ADV[i] > 0) {
            clippedPos++;
          } else {
            clippedNeg++;
          }
        }
      }
    }
    assertTrue(clippedPos > 0 && clippedNeg > 0, "batch clips on both advantage signs");
  }

  @Test
  void ppoByHandLiteral() {
    // sequence 0, A = 1.3, w = 1 on its tokens only:
    // r = e^0.4 = 1.4918 -> min(1.4918*1.3, 1.2*1.3) = 1.56 -> -1.56
    // r = e^-0.9 = 0.4066 -> min(0.5286, 0.8*1.3 = 1.04) = 0.5286 -> -0.5286
    // r = e^0.1 = 1.1052 -> min(1.4367, 1.56) = 1.4367 -> -1.4367
    float[][] w = new float[3][4];
    w[0][1] = w[0][2] = w[0][3] = 1f;
    double got = run(new PolicyLoss(LossType.PPO, 0.2, 0.2, 0), w, new float[3], false, new double[3][4])[0];
    assertEquals(-(1.56 + 1.3 * Math.exp(-0.9) + 1.3 * Math.exp(0.1)), got, 1e-5);
  }

  @Test
  void dapoIsClipHigherWithTokenMean() {
    TrainConfig c = TrainConfig.builder().lossType(LossType.DAPO).build();
    assertEquals(0.2, c.effectiveEpsilon());
    assertEquals(0.28, c.effectiveEpsilonHigh());
    float[][] w = new float[3][4];
    int total = 0;
    for (int i = 0; i < 3; i++) {
      total += count(i);
    }
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        w[i][t] = MASK[i][t] / total;
      }
    }
    assertTokenLoss(LossType.DAPO, 0.8, 1.28, w);
  }

  @Test
  void drGrpoSumsOverAConstant() {
    TrainConfig c = TrainConfig.builder().lossType(LossType.DR_GRPO).scaleRewards(true).build();
    assertTrue(!c.effectiveScaleRewards(), "Dr. GRPO never scales by std");
    float[][] w = new float[3][4];
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        w[i][t] = MASK[i][t] / (3f * 16f); // N * maxCompletionTokens
      }
    }
    assertTokenLoss(LossType.DR_GRPO, 0.8, 1.2, w);
  }

  @Test
  void gspoUsesOneClippedRatioPerSequence() {
    double lo = 0.9;
    double hi = 1.5;
    float[] seqW = {1f / 3, 1f / 3, 1f / 3};
    double expected = 0;
    double[][] expectedGrad = new double[3][4];
    int clipped = 0;
    for (int i = 0; i < 3; i++) {
      double sum = 0;
      for (int t = 0; t < 4; t++) {
        sum += MASK[i][t] * (NEW[i][t] - OLD[i][t]);
      }
      double s = Math.exp(sum / count(i));
      double[] l = ppoToken(s, ADV[i], lo, hi);
      clipped += l[1] == 0.0 ? 1 : 0;
      expected += seqW[i] * l[0];
      for (int t = 0; t < 4; t++) {
        // d s / d logp_t = s / n_i on sampled tokens
        expectedGrad[i][t] = l[1] == 0.0 ? 0.0 : seqW[i] * -ADV[i] * s / count(i) * MASK[i][t];
      }
    }
    assertTrue(clipped > 0 && clipped < 3, "some sequences clipped, some not");
    double[][] grad = new double[3][4];
    double got = run(new PolicyLoss(LossType.GSPO, 1 - lo, hi - 1, 0), new float[3][4], seqW, false, grad)[0];
    assertEquals(expected, got, 1e-5);
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        assertEquals(expectedGrad[i][t], grad[i][t], 1e-5, "grad " + i + "," + t);
      }
    }
  }

  @Test
  void klPenaltyIsK3AgainstTheReference() {
    float[][] w = defaultWeights();
    double coef = 0.5;
    double kl = 0;
    double[][] klGrad = new double[3][4];
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        if (MASK[i][t] == 0) {
          continue;
        }
        double d = OLD[i][t] - NEW[i][t]; // the reference is OLD in this test
        kl += w[i][t] * (Math.exp(d) - d - 1);
        klGrad[i][t] = w[i][t] * (-Math.exp(d) + 1); // d/dnew of k3
      }
    }
    assertTrue(kl > 0);
    double[][] g0 = new double[3][4];
    double[][] g1 = new double[3][4];
    double plain = run(new PolicyLoss(LossType.CISPO, 1, 4, 0), w, new float[3], false, g0)[0];
    double withKl = run(new PolicyLoss(LossType.CISPO, 1, 4, coef), w, new float[3], true, g1)[0];
    assertEquals(plain + coef * kl, withKl, 1e-5);
    for (int i = 0; i < 3; i++) {
      for (int t = 0; t < 4; t++) {
        assertEquals(g0[i][t] + coef * klGrad[i][t], g1[i][t], 1e-5);
      }
    }
  }

  /** Loss and d loss / d newLogp of one token. */
  static float[] oneToken(PolicyLoss loss, float newLp, float oldLp, float adv, Float refLp) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray newLogp = m.create(new float[] {newLp});
      newLogp.setRequiresGradient(true);
      float value;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        PolicyLoss.Output out = loss.compute(new PolicyLoss.Inputs(
            newLogp, m.create(new float[] {oldLp}), m.create(new float[] {adv}), m.create(new float[] {1f}),
            m.create(new float[] {1f}, new Shape(1, 1)), m.create(new float[] {adv}, new Shape(1, 1)),
            m.create(new float[] {1f}, new Shape(1, 1)), m.create(new float[] {1f}, new Shape(1, 1)),
            refLp == null ? null : m.create(new float[] {refLp})));
        value = out.loss().getFloat();
        gc.backward(out.loss());
      }
      return new float[] {value, newLogp.getGradient().getFloat()};
    }
  }

  @Test
  void aRatioPastFloatRangeGivesAFiniteGradient() {
    // log-ratio 100: e^100 overflows fp32. Clipped with A > 0 the token is flat (gradient 0);
    // unclamped, exp's backward made it 0 * inf = NaN, and one NaN token poisons the whole step
    for (LossType type : new LossType[] {LossType.PPO, LossType.DAPO, LossType.DR_GRPO, LossType.GSPO}) {
      PolicyLoss loss = new PolicyLoss(type, 0.2, 0.2, 0);
      float[] up = oneToken(loss, 0f, -100f, 1f, null);
      assertEquals(-1.2f, up[0], 1e-5, type + " loss of a clipped token");
      assertEquals(0f, up[1], type + " gradient of a clipped token");
      float[] down = oneToken(loss, 0f, -100f, -1f, null);
      assertTrue(Float.isFinite(down[0]) && Float.isFinite(down[1]), type + " A < 0: " + down[0] + ", " + down[1]);
      assertEquals(Math.exp(PolicyLoss.MAX_LOG_RATIO), down[0], 1e-3 * Math.exp(PolicyLoss.MAX_LOG_RATIO),
          type + " the ratio saturates at e^" + PolicyLoss.MAX_LOG_RATIO);
    }
    float[] cispo = oneToken(new PolicyLoss(LossType.CISPO, 1.0, 4.0, 0), -1f, -101f, 1f, null);
    assertEquals(5f, cispo[0], 1e-5, "CISPO: clip(ratio) 5 * A 1 * -logp 1");
    assertEquals(-5f, cispo[1], 1e-5);
  }

  @Test
  void aTokenFarBelowTheReferenceGivesAFiniteKlGradient() {
    // ref - new = 100: k3 = exp(100) - 101 overflowed to infinity and its gradient to NaN
    float[] r = oneToken(new PolicyLoss(LossType.CISPO, 1.0, 4.0, 0.1), -100f, -100f, 0f, 0f);
    assertTrue(Float.isFinite(r[0]) && Float.isFinite(r[1]), "loss " + r[0] + ", gradient " + r[1]);
    double k3 = Math.exp(PolicyLoss.MAX_LOG_RATIO) - PolicyLoss.MAX_LOG_RATIO - 1;
    assertEquals(0.1 * k3, r[0], 1e-3 * 0.1 * k3);
    // inside the range the KL gradient is untouched: d/dnew k3 = 1 - exp(ref - new)
    float[] in = oneToken(new PolicyLoss(LossType.CISPO, 1.0, 4.0, 0.1), -3f, -3f, 0f, -1f);
    assertEquals(0.1 * (1 - Math.exp(2)), in[1], 1e-5);
  }
}
