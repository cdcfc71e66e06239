package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Auto activation checkpointing ({@link TrainConfig#activationCheckpointing()} null): the estimate
 * of a layer's kept activations, the fewest recomputed layers for a budget, {@code MemAvailable},
 * and what a trainer reports.
 */
class ActivationMemoryTest {

  /** Qwen2.5-0.5B's shape: D 896, 2 KV heads of 64, F 4864, 14 heads, 24 layers. */
  private static ModelConfig qwen05b() throws Exception {
    return ModelConfig.parse(new ObjectMapper().readTree("{\"model_type\":\"qwen2\",\"vocab_size\":151936,\"hidden_size\":896,"
        + "\"intermediate_size\":4864,\"num_hidden_layers\":24,\"num_attention_heads\":14,"
        + "\"num_key_value_heads\":2,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,"
        + "\"tie_word_embeddings\":true}"), "Qwen2.5-0.5B");
  }

  @Test
  void keptLayerEstimateMatchesTheFormula() throws Exception {
    ModelConfig c = qwen05b();
    long perToken = 8 * 896 + 2 * 128 + 5 * 4864;
    assertEquals(4L * 1024 * perToken, ActivationMemory.keptLayerBytes(c, 1024, true, DataType.FLOAT32));
    // without selective checkpointing the scores and probabilities of every head are kept too
    assertEquals(4L * 1024 * (perToken + 2 * 14 * 1024), ActivationMemory.keptLayerBytes(c, 1024, false, DataType.FLOAT32));
    // a float16 base keeps each layer's fp32 copies of its weights: 896*(896+128+128+896) + 3*896*4864
    long widened = 4L * (896L * (896 + 128 + 128 + 896) + 3L * 896 * 4864);
    assertEquals(4L * 1024 * perToken + widened, ActivationMemory.keptLayerBytes(c, 1024, true, DataType.FLOAT16));
    assertEquals(4L * 1024 * 896, ActivationMemory.recomputedLayerBytes(c, 1024));
    assertEquals(896L * (896 + 128 + 128 + 896) + 3L * 896 * 4864, c.layerProjectionWeights());
  }

  @Test
  void recomputesTheFewestLayersThatFit() throws Exception {
    ModelConfig c = qwen05b();
    long kept = ActivationMemory.keptLayerBytes(c, 1024, true, DataType.FLOAT32);
    long recomputed = ActivationMemory.recomputedLayerBytes(c, 1024);
    assertEquals(0, ActivationMemory.checkpointedLayers(c, 1024, true, DataType.FLOAT32, 24 * kept));
    assertEquals(24, ActivationMemory.checkpointedLayers(c, 1024, true, DataType.FLOAT32, 0));
    int previous = 24;
    for (long budget = 0; budget <= 25 * kept; budget += kept / 3) {
      int k = ActivationMemory.checkpointedLayers(c, 1024, true, DataType.FLOAT32, budget);
      assertTrue(k <= previous, "more memory never recomputes more layers");
      previous = k;
      if (k > 0 && k < 24) {
        long need = (24 - k) * kept + k * recomputed + kept; // + one recomputed layer during its backward
        assertTrue(need <= budget, k + " layers: " + need + " > " + budget);
        long needOneFewer = (24 - k + 1) * kept + (k - 1) * recomputed + (k > 1 ? kept : 0);
        assertTrue(needOneFewer > budget, "one layer fewer would also fit " + budget);
      }
    }
    // half of the layers kept: 12 * kept + 12 * recomputed + kept
    assertEquals(12, ActivationMemory.checkpointedLayers(c, 1024, true, DataType.FLOAT32, 13 * kept + 12 * recomputed));
  }

  @Test
  void memAvailableComesFromProcMeminfo(@TempDir Path dir) throws Exception {
    Path meminfo = dir.resolve("meminfo");
    Files.write(meminfo, List.of("MemTotal:       24683712 kB", "MemFree:        16375304 kB",
        "MemAvailable:   18131708 kB", "Buffers:           70944 kB"));
    assertEquals(18131708L * 1024, ActivationMemory.meminfoField(ActivationMemory.meminfo(meminfo), "MemAvailable").getAsLong());
    assertEquals(24683712L * 1024, ActivationMemory.meminfoField(ActivationMemory.meminfo(meminfo), "MemTotal").getAsLong());
    Files.write(meminfo, List.of("MemTotal:       24683712 kB", "MemFree:        16375304 kB"));
    assertTrue(ActivationMemory.meminfoField(ActivationMemory.meminfo(meminfo), "MemAvailable").isEmpty(), "a kernel without the field");
    assertTrue(ActivationMemory.meminfoField(ActivationMemory.meminfo(dir.resolve("absent")), "MemAvailable").isEmpty());
    assertTrue(ActivationMemory.availableBytes() > 0);
  }

  /** A container limited below the machine's memory counts what its limit leaves, not the machine's. */
  @Test
  void aContainersLimitBoundsTheMemoryAvailable() {
    long gb = 1L << 30;
    // 64 GB machine, 60 GB available, container limited to 8 GB of which 5 GB are free
    assertEquals(5 * gb, ActivationMemory.available(60 * gb, 64 * gb, 8 * gb, 5 * gb));
    // no limit: the JVM's total is the machine's, and MemAvailable (page cache included) counts
    assertEquals(60 * gb, ActivationMemory.available(60 * gb, 64 * gb, 64 * gb, 40 * gb));
    // a limit above what the machine has left changes nothing
    assertEquals(3 * gb, ActivationMemory.available(3 * gb, 64 * gb, 32 * gb, 20 * gb));
  }

  @Test
  void autoIsTheDefaultAndHalfTheLayersOffTheCpu() throws Exception {
    TrainConfig auto = TrainConfig.defaults();
    assertEquals(null, auto.activationCheckpointing());
    assertEquals(null, auto.selectiveCheckpointing());
    ModelConfig c = qwen05b();
    // no free-memory figure (CUDA): half the layers, the others selectively, as before auto
    assertEquals(new ActivationMemory.Plan(12, true), auto.checkpointing(c, 1024, DataType.FLOAT16, Device.gpu()));
    assertEquals(new ActivationMemory.Plan(6, false), TrainConfig.builder().activationCheckpointing(0.25)
        .selectiveCheckpointing(false).build().checkpointing(c, 1024, DataType.FLOAT32, Device.cpu()));
    // JSON: null stays auto, a fixed fraction (as older checkpoints wrote 0.5) stays fixed
    ObjectMapper json = new ObjectMapper();
    TrainConfig back = json.readValue(json.writeValueAsString(auto), TrainConfig.class);
    assertEquals(null, back.activationCheckpointing());
    assertEquals(null, back.selectiveCheckpointing());
    com.fasterxml.jackson.databind.node.ObjectNode older = json.valueToTree(auto);
    older.put("activation_checkpointing", 0.5);
    older.put("selective_checkpointing", true);
    TrainConfig old = json.treeToValue(older, TrainConfig.class);
    assertEquals(0.5, old.activationCheckpointing());
    assertEquals(true, old.selectiveCheckpointing());
  }

  /** Both auto: whole layers when they all fit, else selective, else selective plus recomputed layers. */
  @Test
  void autoKeepsLayersWholeWhenTheyFitAndRecomputesLessFirst() throws Exception {
    ModelConfig c = qwen05b();
    long whole = 24 * ActivationMemory.keptLayerBytes(c, 1024, false, DataType.FLOAT32);
    long selective = 24 * ActivationMemory.keptLayerBytes(c, 1024, true, DataType.FLOAT32);
    assertTrue(selective < whole);
    assertEquals(new ActivationMemory.Plan(0, false), plan(c, null, null, whole));
    assertEquals(new ActivationMemory.Plan(0, true), plan(c, null, null, whole - 1));
    assertEquals(new ActivationMemory.Plan(0, true), plan(c, null, null, selective));
    ActivationMemory.Plan tight = plan(c, null, null, selective - 1);
    assertTrue(tight.selective() && tight.checkpointedLayers() > 0, tight.toString());
    assertEquals(tight.checkpointedLayers(), ActivationMemory.checkpointedLayers(c, 1024, true, DataType.FLOAT32, selective - 1));
    // one part fixed, the other auto
    assertEquals(new ActivationMemory.Plan(0, true), plan(c, null, true, whole));
    assertEquals(new ActivationMemory.Plan(
        ActivationMemory.checkpointedLayers(c, 1024, false, DataType.FLOAT32, whole - 1), false), plan(c, null, false, whole - 1));
    assertEquals(new ActivationMemory.Plan(12, false), plan(c, 0.5, null, whole));
    assertEquals(new ActivationMemory.Plan(12, true), plan(c, 0.5, null, ActivationMemory.need(c, 1024, false, DataType.FLOAT32, 12) - 1));
  }

  private static ActivationMemory.Plan plan(ModelConfig c, Double fraction, Boolean selective, long budget) {
    return ActivationMemory.plan(c, 1024, fraction, selective, DataType.FLOAT32, budget);
  }

  /** A trainer on the tiny model reports what it recomputed: nothing by auto (a few KB fit whole), k by a fraction. */
  @Test
  void theTrainerReportsWhatItRecomputed() throws Exception {
    assertEquals(List.of(0.0, 0.0), recomputedInOneStep(null, null));
    assertEquals(List.of(1.0, 0.0), recomputedInOneStep(0.5, null)); // tiny-qwen2 has 2 layers
    assertEquals(List.of(2.0, 0.0), recomputedInOneStep(1.0, null));
    assertEquals(List.of(0.0, 1.0), recomputedInOneStep(null, true));
  }

  /** [checkpointed_layers, selective_checkpointing] of one step. */
  private static List<Double> recomputedInOneStep(Double fraction, Boolean selective) throws Exception {
    TrainConfig config = TrainConfig.builder().activationCheckpointing(fraction).selectiveCheckpointing(selective)
        .tokenBudget(24).build();
    try (Policy policy = Policy.load(Tiny.model("tiny-qwen2"));
        GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).build()) {
      TrainResult r = trainer.train(Tiny.fixedGroups());
      assertTrue(Double.isFinite(r.loss()), "a trained step");
      return List.of(r.metric("checkpointed_layers"), r.metric("selective_checkpointing"));
    }
  }
}
