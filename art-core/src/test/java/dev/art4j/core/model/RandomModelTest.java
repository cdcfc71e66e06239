package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** {@link Transformer#random}: the benchmarks' checkpoint-free model. */
class RandomModelTest {

  @Test
  void shapesFollowTheConfigAndSeedDecides() throws Exception {
    ModelConfig config = ModelConfig.load(Fixtures.model("tiny-qwen3"));
    try (NDManager manager = NDManager.newBaseManager();
        Transformer a = Transformer.random(config, 1, manager);
        Transformer b = Transformer.random(config, 1, manager);
        Transformer c = Transformer.random(config, 2, manager);
        NDManager step = manager.newSubManager()) {
      TransformerWeights.Layer layer = a.weights().layers().get(1);
      assertEquals(config.numHiddenLayers(), a.weights().layers().size());
      assertEquals(new Shape(96, 64), layer.wq().getShape());
      assertEquals(new Shape(24, 64), layer.wk().getShape());
      assertEquals(new Shape(64, 96), layer.wo().getShape());
      assertEquals(new Shape(24), layer.qNorm().getShape());
      assertEquals(new Shape(256, 64), a.weights().lmHead().getShape());
      double sum = 0;
      float[] gate = layer.wGate().toFloatArray(); // read out: ops with a weight first would throw (capped)
      for (float v : gate) {
        sum += v * v;
      }
      assertEquals(0.02, Math.sqrt(sum / gate.length), 0.002);
      long[] ids = {1, 2, 3};
      float[] la = a.forward(step.create(ids).reshape(1, 3), null).toFloatArray();
      assertArrayEquals(la, b.forward(step.create(ids).reshape(1, 3), null).toFloatArray());
      assertFalse(java.util.Arrays.equals(la, c.forward(step.create(ids).reshape(1, 3), null).toFloatArray()));
    }
    ModelConfig tied = ModelConfig.load(Fixtures.model("tiny-qwen2"));
    try (NDManager manager = NDManager.newBaseManager(); Transformer t = Transformer.random(tied, 3, manager)) {
      assertSame(t.weights().embedding(), t.weights().lmHead());
      assertEquals(new Shape(64), t.weights().layers().get(0).bq().getShape());
    }
  }
}
