package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraTest {

  static NDManager manager;
  static final long[] TOKENS = {5, 17, 42, 99, 3, 250, 7};

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  static float[] logits(Transformer model, Lora adapter) {
    try (NDManager step = manager.newSubManager()) {
      return model.forward(step.create(TOKENS).reshape(1, TOKENS.length), adapter).toFloatArray();
    }
  }

  @Test
  void freshAdapterChangesNothing() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen3"), manager);
        Lora fresh = Lora.create(model.config(), new LoraConfig(8, 16, 0), 1, manager)) {
      assertEquals(2 * 7 * model.config().numHiddenLayers(), fresh.parameters().size());
      assertArrayEquals(logits(model, null), logits(model, fresh));
      // A is random, B zero
      NDArray a = fresh.a(0, Projection.Q);
      assertEquals(8, a.getShape().get(0));
      assertTrue(a.abs().max().getFloat() > 0);
      assertEquals(0f, fresh.b(0, Projection.Q).abs().max().getFloat());
    }
  }

  @Test
  void fixtureAdapterSavedAndReloadedIsIdentical(@TempDir Path tmp) throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        Lora loaded = Lora.load(dir.resolve("adapter"), model.config(), manager)) {
      loaded.save(tmp.resolve("saved"));
      try (Lora again = Lora.load(tmp.resolve("saved"), model.config(), manager)) {
        assertEquals(loaded.config(), again.config());
        assertEquals(loaded.parameterNames(), again.parameterNames());
        for (int i = 0; i < loaded.parameters().size(); i++) {
          assertArrayEquals(loaded.parameters().get(i).toFloatArray(), again.parameters().get(i).toFloatArray());
        }
        float[] base = logits(model, null);
        float[] adapted = logits(model, loaded);
        assertFalse(java.util.Arrays.equals(base, adapted), "the fixture adapter must change the logits");
        assertArrayEquals(adapted, logits(model, again));
      }
      JsonNode cfg = Fixtures.JSON.readTree(tmp.resolve("saved/adapter_config.json").toFile());
      assertEquals("LORA", cfg.get("peft_type").asText());
      assertEquals(4, cfg.get("r").asInt());
      assertEquals(8.0, cfg.get("lora_alpha").asDouble());
      assertEquals(7, cfg.get("target_modules").size());
      // PEFT tensor names, as written by Python
      Safetensors st = Safetensors.open(tmp.resolve("saved/adapter_model.safetensors"));
      assertEquals(Safetensors.open(dir.resolve("adapter/adapter_model.safetensors")).names(), st.names());
    }
  }

  @Test
  void trainedAdapterRoundTrips(@TempDir Path tmp) throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-llama-bf16"), manager);
        Lora lora = Lora.create(model.config(), new LoraConfig(2, 4, 0, List.of("q_proj", "down_proj"), false), 3, manager)) {
      for (NDArray b : lora.parameters()) {
        if (b.getShape().get(1) == 2) { // B (out, r)
          b.set(manager.randomNormal(b.getShape()).mul(0.1f).toFloatArray());
        }
      }
      assertNotEquals(logits(model, null)[0], logits(model, lora)[0]);
      lora.save(tmp);
      try (Lora again = Lora.load(tmp, model.config(), manager)) {
        assertEquals(List.of("q_proj", "down_proj"), again.config().targetModules());
        assertEquals(null, again.a(0, Projection.K));
        assertArrayEquals(logits(model, lora), logits(model, again));
      }
    }
  }

  @Test
  void dropoutOnlyWhileTraining() throws Exception {
    try (Transformer model = Transformer.load(Fixtures.model("tiny-qwen2"), manager);
        Lora lora = Lora.create(model.config(), new LoraConfig(4, 8, 0.5), 5, manager)) {
      for (NDArray p : lora.parameters()) {
        p.set(manager.randomNormal(p.getShape()).mul(0.2f).toFloatArray());
      }
      float[] eval = logits(model, lora);
      assertArrayEquals(eval, logits(model, lora));
      lora.setTraining(true);
      float[] train = logits(model, lora);
      assertFalse(java.util.Arrays.equals(eval, train), "dropout must perturb training forwards");
      lora.setTraining(false);
      assertArrayEquals(eval, logits(model, lora));
    }
  }

  @Test
  void gradientsReachOnlyTheAdapter() throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    try (Transformer model = Transformer.load(dir, manager);
        Lora lora = Lora.load(dir.resolve("adapter"), model.config(), manager);
        NDManager step = manager.newSubManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray logits = model.forward(step.create(TOKENS).reshape(1, TOKENS.length), lora);
        NDArray loss = logits.logSoftmax(-1).get("0, :, 3").sum().neg();
        gc.backward(loss);
      }
      for (NDArray p : lora.parameters()) {
        try (NDArray g = p.getGradient()) {
          assertTrue(g.abs().sum().getFloat() > 0, "zero gradient for an adapter parameter");
        }
      }
      assertFalse(model.weights().layers().get(0).wq().hasGradient());
      assertFalse(model.weights().embedding().hasGradient());
    }
  }

  @Test
  void badAdapterFilesAreClearErrors(@TempDir Path tmp) throws Exception {
    Path dir = Fixtures.model("tiny-qwen2");
    ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
    // adapter for another shape: qwen3 dims differ
    Files.createDirectories(tmp.resolve("a"));
    Files.copy(dir.resolve("adapter/adapter_model.safetensors"), tmp.resolve("a/adapter_model.safetensors"));
    Files.writeString(tmp.resolve("a/adapter_config.json"),
        "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]}");
    ModelConfig other = ModelConfig.load(Fixtures.model("tiny-qwen3").resolve("config.json"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Lora.load(tmp.resolve("a"), other, manager));
    assertTrue(e.getMessage().contains("q_proj.lora_B.weight") && e.getMessage().contains("expected [96, 4]"), e.getMessage());
    // r disagrees with the tensors
    Files.writeString(tmp.resolve("a/adapter_config.json"),
        "{\"peft_type\":\"LORA\",\"r\":8,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]}");
    e = assertThrows(CheckpointException.class, () -> Lora.load(tmp.resolve("a"), config, manager));
    assertTrue(e.getMessage().contains("adapter_model.safetensors"), e.getMessage());
    Files.writeString(tmp.resolve("a/adapter_config.json"),
        "{\"peft_type\":\"LORA\",\"r\":4,\"use_dora\":true,\"target_modules\":[\"q_proj\"]}");
    e = assertThrows(CheckpointException.class, () -> Lora.load(tmp.resolve("a"), config, manager));
    assertTrue(e.getMessage().contains("use_dora"), e.getMessage());
    Files.writeString(tmp.resolve("a/adapter_config.json"), "{\"r\": 4, \"target_modules\": [\"q_proj\"");
    e = assertThrows(CheckpointException.class, () -> Lora.load(tmp.resolve("a"), config, manager));
    assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("malformed"), e.getMessage());
  }

  /** The fixture adapter (all seven projections of every layer) with another adapter_config.json. */
  static Path adapterWithConfig(Path tmp, String name, String config) throws Exception {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    Files.copy(Fixtures.model("tiny-qwen2").resolve("adapter/adapter_model.safetensors"),
        dir.resolve("adapter_model.safetensors"));
    Files.writeString(dir.resolve("adapter_config.json"), config);
    return dir;
  }

  @Test
  void tensorsTheConfigDoesNotTargetAreRefusedUnlessPartial(@TempDir Path tmp) throws Exception {
    Path fixture = Fixtures.model("tiny-qwen2");
    Path onlyQ = adapterWithConfig(tmp, "q", "{\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]}");
    try (Transformer model = Transformer.load(fixture, manager)) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> Lora.load(onlyQ, model.config(), manager));
      assertTrue(e.getMessage().contains(onlyQ.resolve("adapter_model.safetensors").toString())
          && e.getMessage().contains("layers.0.mlp.down_proj.lora_A.weight")
          && e.getMessage().contains("adapts module down_proj")
          && e.getMessage().contains("does not target"), e.getMessage());
      // opted in: q_proj only, and it gives the logits of the full adapter with the others zeroed
      try (Lora partial = Lora.loadPartial(onlyQ, model.config(), manager);
          Lora full = Lora.load(fixture.resolve("adapter"), model.config(), manager)) {
        assertEquals(List.of("q_proj"), partial.config().targetModules());
        assertEquals(2 * model.config().numHiddenLayers(), partial.parameters().size());
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
          for (Projection p : Projection.values()) {
            if (p != Projection.Q) {
              full.b(l, p).set(new float[(int) full.b(l, p).size()]);
            }
          }
        }
        assertArrayEquals(logits(model, full), logits(model, partial));
        assertFalse(java.util.Arrays.equals(logits(model, null), logits(model, partial)));
      }
    }
  }

  @Test
  void aTargetRegexThatMatchesNothingIsRefused(@TempDir Path tmp) throws Exception {
    ModelConfig config = ModelConfig.load(Fixtures.model("tiny-qwen2").resolve("config.json"));
    Path none = adapterWithConfig(tmp, "none", "{\"r\":4,\"target_modules\":\".*\\\\.query\"}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> Lora.load(none, config, manager));
    assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("target_modules")
        && e.getMessage().contains("matches no projection"), e.getMessage());
    assertThrows(CheckpointException.class, () -> Lora.loadPartial(none, config, manager));
    // a regex for layer 0 only: layer 1's tensors are not dropped without a word
    Path layer0 = adapterWithConfig(tmp, "layer0",
        "{\"r\":4,\"target_modules\":\"model\\\\.layers\\\\.0\\\\..*_proj\"}");
    e = assertThrows(CheckpointException.class, () -> Lora.load(layer0, config, manager));
    assertTrue(e.getMessage().contains("model.layers.1.") && e.getMessage().contains("does not target"), e.getMessage());
    try (Lora partial = Lora.loadPartial(layer0, config, manager)) {
      assertTrue(partial.a(0, Projection.Q) != null && partial.a(1, Projection.Q) == null);
    }
  }

  @Test
  void tensorsForALayerTheModelLacksAreRefused(@TempDir Path tmp) throws Exception {
    Path fixture = Fixtures.model("tiny-qwen2");
    ModelConfig config = ModelConfig.load(fixture.resolve("config.json"));
    int layers = config.numHiddenLayers();
    Path dir = tmp.resolve("extra");
    Files.createDirectories(dir);
    Files.copy(fixture.resolve("adapter/adapter_config.json"), dir.resolve("adapter_config.json"));
    Safetensors st = Safetensors.open(fixture.resolve("adapter/adapter_model.safetensors"));
    try (NDManager m = manager.newSubManager()) {
      java.util.Map<String, NDArray> tensors = new java.util.TreeMap<>();
      for (String name : st.names()) {
        tensors.put(name, st.load(name, m));
      }
      String extra = "base_model.model.model.layers." + layers + ".mlp.down_proj.lora_A.weight";
      tensors.put(extra, st.load("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", m));
      Safetensors.write(dir.resolve("adapter_model.safetensors"), tensors, null);
      CheckpointException e = assertThrows(CheckpointException.class, () -> Lora.load(dir, config, manager));
      assertTrue(e.getMessage().contains(extra) && e.getMessage().contains("the model has " + layers + " layers"),
          e.getMessage());
      try (Lora partial = Lora.loadPartial(dir, config, manager)) {
        assertEquals(2 * 7 * layers, partial.parameters().size());
      }
    }
  }

  @Test
  void badRegexAndDropoutInTheConfigNameTheField(@TempDir Path tmp) throws Exception {
    ModelConfig config = ModelConfig.load(Fixtures.model("tiny-qwen2").resolve("config.json"));
    Path regex = adapterWithConfig(tmp, "regex", "{\"r\":4,\"target_modules\":\"(q_proj\"}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> Lora.load(regex, config, manager));
    assertTrue(e.getMessage().contains("target_modules") && e.getMessage().contains("invalid regex"), e.getMessage());
    Path dropout = adapterWithConfig(tmp, "dropout",
        "{\"r\":4,\"lora_dropout\":1.5,\"target_modules\":\"all-linear\"}");
    e = assertThrows(CheckpointException.class, () -> Lora.load(dropout, config, manager));
    assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("lora_dropout")
        && e.getMessage().contains("1.5"), e.getMessage());
  }
}
