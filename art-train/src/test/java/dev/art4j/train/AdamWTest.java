package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdamWTest {

  @TempDir Path dir;

  /** Backward of {@code sum(p * c)}: accumulates {@code c} into p's gradient. */
  static void backward(NDArray p, float[] c) {
    try (NDManager m = NDManager.newBaseManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray coef = m.create(c);
      gc.backward(coef.mul(p).sum());
    }
  }

  @Test
  void matchesTorchAdamWByHandWithClippingAndDecay() {
    TrainConfig c = TrainConfig.builder().learningRate(0.1).betas(0.9, 0.99).adamEps(1e-8)
        .weightDecay(0.05).maxGradNorm(1.0).build();
    float[][] grads = {{3f, -4f}, {0.3f, 0.1f}, {-0.5f, 0.2f}}; // norm 5 (clipped), then < 1
    double[] p = {0.5, -1.0};
    double[] m = new double[2];
    double[] v = new double[2];
    try (NDManager base = NDManager.newBaseManager()) {
      NDArray param = base.create(new float[] {0.5f, -1.0f});
      param.setRequiresGradient(true);
      try (AdamW opt = new AdamW(List.of("w"), List.of(param), base)) {
        for (int t = 1; t <= 3; t++) {
          // accumulate over two backward passes: the optimiser must see their sum
          float[] half = {grads[t - 1][0] / 2, grads[t - 1][1] / 2};
          backward(param, half);
          backward(param, half);
          double norm;
          try (NDManager scope = base.newSubManager()) {
            norm = opt.step(0.1, c, scope);
          }
          // by hand, torch.optim.AdamW + clip_grad_norm_
          double n = Math.hypot(grads[t - 1][0], grads[t - 1][1]);
          assertEquals(n, norm, 1e-5);
          double scale = n > 1.0 ? 1.0 / (n + 1e-6) : 1.0;
          for (int i = 0; i < 2; i++) {
            double g = grads[t - 1][i] * scale;
            p[i] *= 1 - 0.1 * 0.05;
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.99 * v[i] + 0.01 * g * g;
            double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.99, t)) + 1e-8;
            p[i] -= 0.1 / (1 - Math.pow(0.9, t)) * m[i] / denom;
          }
          float[] got = param.toFloatArray();
          assertEquals(p[0], got[0], 1e-5, "step " + t);
          assertEquals(p[1], got[1], 1e-5, "step " + t);
          assertArrayEquals(new float[2], param.getGradient().toFloatArray(), "gradients zeroed after the step");
        }
        assertEquals(3, opt.steps());
      }
    }
  }

  @Test
  void nonFiniteGradientSkipsTheUpdateAndIsCleared() {
    TrainConfig c = TrainConfig.builder().learningRate(0.1).build();
    try (NDManager base = NDManager.newBaseManager()) {
      NDArray param = base.create(new float[] {1f, 2f});
      param.setRequiresGradient(true);
      try (AdamW opt = new AdamW(List.of("w"), List.of(param), base)) {
        backward(param, new float[] {Float.NaN, 1f});
        try (NDManager scope = base.newSubManager()) {
          assertTrue(Double.isNaN(opt.step(0.1, c, scope)));
        }
        assertArrayEquals(new float[] {1f, 2f}, param.toFloatArray());
        assertEquals(0, opt.steps());
        backward(param, new float[] {1f, 1f});
        try (NDManager scope = base.newSubManager()) {
          assertEquals(Math.sqrt(2), opt.gradNorm(scope), 1e-6, "the NaN did not survive zeroing");
        }
      }
    }
  }

  @Test
  void saveAndLoadRestoreMomentsBitExactly() throws Exception {
    TrainConfig c = TrainConfig.builder().learningRate(0.01).build();
    try (NDManager base = NDManager.newBaseManager()) {
      NDArray a1 = base.create(new float[] {0.1f, 0.2f, 0.3f});
      NDArray a2 = base.create(new float[] {0.1f, 0.2f, 0.3f});
      a1.setRequiresGradient(true);
      a2.setRequiresGradient(true);
      try (AdamW o1 = new AdamW(List.of("w"), List.of(a1), base);
          AdamW o2 = new AdamW(List.of("w"), List.of(a2), base)) {
        float[][] gs = {{0.3f, -0.7f, 0.11f}, {0.5f, 0.5f, -0.2f}, {-0.13f, 0.2f, 0.9f}};
        backward(a1, gs[0]);
        try (NDManager s = base.newSubManager()) {
          o1.step(0.01, c, s);
        }
        o1.save(dir.resolve("opt.safetensors"));
        o2.load(dir.resolve("opt.safetensors"), o1.steps());
        try (NDManager s = base.newSubManager()) {
          AdamW.copyInto(a2, a1, s);
        }
        for (int t = 1; t < 3; t++) {
          backward(a1, gs[t]);
          backward(a2, gs[t]);
          try (NDManager s = base.newSubManager()) {
            o1.step(0.01, c, s);
            o2.step(0.01, c, s);
          }
        }
        assertArrayEquals(a1.toFloatArray(), a2.toFloatArray(), "bit-identical after resume");
        assertEquals(3, o2.steps());
      }
    }
  }
}
