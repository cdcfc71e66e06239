package dev.art4j.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.model.Policy;
import dev.art4j.core.model.TransformerWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RandomCheckpoint}: a streamed random checkpoint loads as a Policy with the promised values. */
class RandomCheckpointTest {

  static final String CONFIG = "{\"model_type\":\"qwen2\",\"vocab_size\":300,\"hidden_size\":64,"
      + "\"intermediate_size\":96,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
      + "\"num_key_value_heads\":2,\"rms_norm_eps\":1e-6,\"rope_theta\":10000.0,"
      + "\"tie_word_embeddings\":false,\"max_position_embeddings\":512,\"eos_token_id\":2}";

  @TempDir Path tmp;

  @Test
  void loadsWithUniformWeightsUnitNormsZeroBiasesAndIsDeterministic() throws Exception {
    Path a = Files.createDirectory(tmp.resolve("a"));
    Path b = Files.createDirectory(tmp.resolve("b"));
    RandomCheckpoint.write(a, CONFIG, 3);
    RandomCheckpoint.write(b, CONFIG, 3);
    assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
    try (Policy policy = Policy.load(a)) {
      TransformerWeights w = policy.model().weights();
      TransformerWeights.Layer layer = w.layers().get(1);
      for (float v : layer.attnNorm().toFloatArray()) {
        assertEquals(1f, v);
      }
      for (float v : layer.bq().toFloatArray()) {
        assertEquals(0f, v);
      }
      float[] up = layer.wUp().toFloatArray(); // (96, 64)
      double sum = 0;
      double sq = 0;
      for (float v : up) {
        assertTrue(Math.abs(v) <= 0.02 * Math.sqrt(3) + 1e-7, "uniform bound: " + v);
        sum += v;
        sq += v * v;
      }
      double mean = sum / up.length;
      double std = Math.sqrt(sq / up.length - mean * mean);
      assertEquals(0.02, std, 0.001, "std");
      assertEquals(300 * 64, w.lmHead().size(), "separate LM head written");
    }
  }
}
