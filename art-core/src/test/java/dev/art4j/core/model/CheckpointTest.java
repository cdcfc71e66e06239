package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint formats (sharded, F16) and every kind of bad input. */
class CheckpointTest {

  static NDManager manager;
  static final long[] TOKENS = {3, 141, 59, 26, 53, 58, 97, 93};

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  static float[] logits(Path dir) throws IOException {
    try (Transformer model = Transformer.load(dir, manager); NDManager step = manager.newSubManager()) {
      return model.forward(step.create(TOKENS).reshape(1, TOKENS.length), null).toFloatArray();
    }
  }

  /** A copy of a fixture checkpoint whose tensors pass through {@code edit} first. */
  static Path rewrite(Path tmp, String fixture, java.util.function.Consumer<Map<String, NDArray>> edit) throws IOException {
    Path src = Fixtures.model(fixture);
    Files.createDirectories(tmp);
    Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
    Safetensors st = Safetensors.open(src);
    try (NDManager m = manager.newSubManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      for (String name : st.names()) {
        tensors.put(name, st.load(name, m));
      }
      edit.accept(tensors);
      Safetensors.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }
    return tmp;
  }

  @Test
  void shardedCheckpointScoresTheSame(@TempDir Path tmp) throws Exception {
    Path src = Fixtures.model("tiny-qwen3");
    Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
    Safetensors st = Safetensors.open(src);
    List<String> names = new ArrayList<>(st.names());
    ObjectNode index = Fixtures.JSON.createObjectNode();
    index.putObject("metadata").put("total_size", 0);
    ObjectNode map = index.putObject("weight_map");
    int shards = 3;
    try (NDManager m = manager.newSubManager()) {
      for (int s = 0; s < shards; s++) {
        String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
        Map<String, NDArray> part = new LinkedHashMap<>();
        for (int i = s; i < names.size(); i += shards) {
          part.put(names.get(i), st.load(names.get(i), m));
          map.put(names.get(i), file);
        }
        Safetensors.write(tmp.resolve(file), part, Map.of());
      }
    }
    Files.writeString(tmp.resolve("model.safetensors.index.json"), index.toString());
    assertEquals(st.names(), Safetensors.open(tmp).names());
    assertArrayEquals(logits(src), logits(tmp));
  }

  /** Checkpoints of two runs compare byte for byte: nothing in the file depends on map order. */
  @Test
  void equalTensorsAndMetadataGiveEqualBytes(@TempDir Path tmp) throws Exception {
    try (NDManager m = manager.newSubManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("b", m.create(new float[] {1, 2}));
      tensors.put("a", m.create(new float[] {3}));
      Map<String, NDArray> reversed = new LinkedHashMap<>();
      reversed.put("a", tensors.get("a"));
      reversed.put("b", tensors.get("b"));
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("step", "3");
      meta.put("optimizer", "adamw");
      meta.put("format", "pt");
      Map<String, String> metaReversed = new LinkedHashMap<>();
      metaReversed.put("format", "pt");
      metaReversed.put("optimizer", "adamw");
      metaReversed.put("step", "3");
      Safetensors.write(tmp.resolve("one.safetensors"), tensors, meta);
      Safetensors.write(tmp.resolve("two.safetensors"), reversed, metaReversed);
      assertArrayEquals(Files.readAllBytes(tmp.resolve("one.safetensors")), Files.readAllBytes(tmp.resolve("two.safetensors")));
    }
  }

  @Test
  void f16TensorsLoad(@TempDir Path tmp) throws Exception {
    Path dir = rewrite(tmp, "tiny-qwen2", t -> t.replaceAll((k, v) -> v.toType(DataType.FLOAT16, false)));
    assertEquals("F16", Safetensors.open(dir).info("model.norm.weight").dtype());
    float[] want = logits(Fixtures.model("tiny-qwen2"));
    float[] got = logits(dir);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 0.05, "logit " + i);
    }
  }

  @Test
  void bigTensorsLoadInBlocksOfRows() throws Exception {
    for (String fixture : new String[] {"tiny-qwen2", "tiny-llama-bf16"}) {
      Safetensors st = Safetensors.open(Fixtures.model(fixture));
      try (NDManager m = manager.newSubManager()) {
        for (String name : st.names()) {
          Safetensors.TensorInfo info = st.info(name);
          // 1000-byte blocks: several rows per block, uneven last block
          float[] whole = st.load(name, m).toFloatArray();
          assertArrayEquals(whole, Safetensors.load(info, m, DataType.FLOAT32, 1000).toFloatArray(), name);
          assertArrayEquals(whole, Safetensors.load(info, m, DataType.FLOAT32, 4).toFloatArray(), name);
        }
      }
    }
  }

  @Test
  void halfToFloatMatchesPyTorch() {
    try (NDManager m = manager.newSubManager()) {
      float[] values = {0f, -0f, 1f, -2.5f, 65504f, 6.1e-5f, 5.96e-8f, 3.14159f, Float.POSITIVE_INFINITY};
      NDArray half = m.create(values).toType(DataType.FLOAT16, false);
      NDArray back = half.toType(DataType.FLOAT32, false);
      java.nio.ShortBuffer bits = half.toByteBuffer().order(java.nio.ByteOrder.nativeOrder()).asShortBuffer();
      for (int i = 0; i < values.length; i++) {
        assertEquals(back.getFloat(i), Safetensors.halfToFloat(bits.get(i)), "value " + values[i]);
      }
    }
  }

  @Test
  void truncatedFileNamesFileAndTensor(@TempDir Path tmp) throws Exception {
    Path src = Fixtures.model("tiny-qwen2");
    Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
    byte[] bytes = Files.readAllBytes(src.resolve("model.safetensors"));
    Files.write(tmp.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 1000));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(tmp, manager));
    assertTrue(e.getMessage().contains(tmp.resolve("model.safetensors").toString()), e.getMessage());
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("tensor model."), e.getMessage());
    Files.write(tmp.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, 100));
    e = assertThrows(CheckpointException.class, () -> Transformer.load(tmp, manager));
    assertTrue(e.getMessage().contains("header length"), e.getMessage());
  }

  @Test
  void wrongShapeNamesTensorAndShapes(@TempDir Path tmp) throws Exception {
    Path dir = rewrite(tmp, "tiny-qwen2", t -> {
      NDArray w = t.get("model.layers.1.mlp.up_proj.weight");
      t.put("model.layers.1.mlp.up_proj.weight", w.get(":100, :"));
    });
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(dir, manager));
    assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight")
        && e.getMessage().contains("[100, 64]") && e.getMessage().contains("expected [160, 64]"), e.getMessage());
  }

  @Test
  void missingTensorIsNamed(@TempDir Path tmp) throws Exception {
    Path dir = rewrite(tmp, "tiny-qwen2", t -> t.remove("model.layers.0.self_attn.k_proj.bias"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(dir, manager));
    assertTrue(e.getMessage().contains("missing tensor model.layers.0.self_attn.k_proj.bias")
        && e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  static Path config(Path tmp, String fixture, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    ObjectNode node = (ObjectNode) Fixtures.JSON.readTree(Fixtures.model(fixture).resolve("config.json").toFile());
    edit.accept(node);
    Path file = tmp.resolve("config.json");
    Files.writeString(file, node.toString());
    return file;
  }

  @Test
  void unknownModelTypeMissingFieldAndMalformedJson(@TempDir Path tmp) throws Exception {
    Path file = config(tmp, "tiny-qwen2", n -> n.put("model_type", "gpt2"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("model_type \"gpt2\""), e.getMessage());

    config(tmp, "tiny-qwen2", n -> n.remove("hidden_size"));
    e = assertThrows(CheckpointException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().contains("missing field hidden_size"), e.getMessage());

    config(tmp, "tiny-qwen2", n -> n.put("num_hidden_layers", "two"));
    e = assertThrows(CheckpointException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().contains("num_hidden_layers"), e.getMessage());

    config(tmp, "tiny-llama-bf16", n -> ((ObjectNode) n.get("rope_scaling")).put("rope_type", "yarn"));
    e = assertThrows(CheckpointException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().contains("rope_scaling.rope_type \"yarn\""), e.getMessage());

    Files.writeString(file, "{\"model_type\": \"qwen2\", \"hidden_size\": 64,,}");
    e = assertThrows(CheckpointException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("malformed JSON"), e.getMessage());

    Files.writeString(tmp.resolve("model.safetensors"), "");
    config(tmp, "tiny-qwen2", n -> { });
    e = assertThrows(CheckpointException.class, () -> Transformer.load(tmp, manager));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void configSpellings(@TempDir Path tmp) throws Exception {
    ModelConfig qwen3 = ModelConfig.load(Fixtures.model("tiny-qwen3").resolve("config.json"));
    assertEquals(24, qwen3.headDim());
    assertTrue(qwen3.qkNorm());
    assertEquals(4, qwen3.groupSize());
    ModelConfig qwen2 = ModelConfig.load(Fixtures.model("tiny-qwen2"));
    assertEquals(16, qwen2.headDim()); // derived: 64 / 4
    assertTrue(qwen2.attentionBias() && !qwen2.outputBias() && qwen2.tieWordEmbeddings());
    assertEquals(List.of(2), qwen2.eosTokenIds());
    ModelConfig llama = ModelConfig.load(Fixtures.model("tiny-llama-bf16"));
    assertEquals(new RopeScaling(8, 1, 4, 64), llama.ropeScaling());
    assertEquals("bfloat16", llama.torchDtype());

    // transformers 5: rope_parameters, eos list, no bos
    Path file = config(tmp, "tiny-llama-bf16", n -> {
      ObjectNode params = (ObjectNode) n.remove("rope_scaling");
      params.put("rope_theta", 123.0);
      n.remove("rope_theta");
      n.set("rope_parameters", params);
      n.putArray("eos_token_id").add(2).add(7);
      n.putNull("bos_token_id");
    });
    ModelConfig v5 = ModelConfig.load(file);
    assertEquals(123.0, v5.ropeTheta());
    assertEquals(llama.ropeScaling(), v5.ropeScaling());
    assertEquals(List.of(2, 7), v5.eosTokenIds());
    assertNull(v5.bosTokenId());
    config(tmp, "tiny-qwen2", n -> n.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5e5));
    ModelConfig plain = ModelConfig.load(file);
    assertNull(plain.ropeScaling());
    assertEquals(5e5, plain.ropeTheta());
  }

  @Test
  void llama3ScalingKeepsHighAndScalesLowFrequencies() {
    RopeScaling s = new RopeScaling(8, 1, 4, 64);
    double high = 2 * Math.PI / 8; // wavelength 8 < 64/4
    double low = 2 * Math.PI / 128; // wavelength 128 > 64/1
    assertEquals(high, s.scale(high), 1e-12);
    assertEquals(low / 8, s.scale(low), 1e-12);
    double mid = 2 * Math.PI / 32; // smooth: s = (64/32 - 1) / 3 = 1/3
    assertEquals((1 - 1.0 / 3) * mid / 8 + mid / 3, s.scale(mid), 1e-12);
  }

  @Test
  void aConfigWithFewerLayersThanTheFileIsRefused(@TempDir Path tmp) throws Exception {
    Path src = Fixtures.model("tiny-qwen2");
    Files.copy(src.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
    config(tmp, "tiny-qwen2", n -> n.put("num_hidden_layers", 1));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(tmp, manager));
    assertTrue(e.getMessage().contains(tmp.resolve("model.safetensors").toString())
        && e.getMessage().contains("tensors for 2 layers") && e.getMessage().contains("num_hidden_layers 1")
        && e.getMessage().contains("model.layers.1."), e.getMessage());
  }

  @Test
  void aTensorTheConfigDoesNotDeclareIsRefused(@TempDir Path tmp) throws Exception {
    // a llama checkpoint with an o_proj bias its config does not declare: dropping it would change every output
    Path dir = rewrite(tmp, "tiny-llama-bf16", t -> {
      NDArray w = t.get("model.layers.0.self_attn.o_proj.weight");
      t.put("model.layers.0.self_attn.o_proj.bias", w.get(":, 0").duplicate());
    });
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(dir, manager));
    assertTrue(e.getMessage().contains("tensor model.layers.0.self_attn.o_proj.bias"), e.getMessage());
  }

  @Test
  void nonFiniteWeightsAreRefused(@TempDir Path tmp) throws Exception {
    Path dir = rewrite(tmp.resolve("nan"), "tiny-qwen2", t -> {
      NDArray w = t.get("model.layers.1.self_attn.v_proj.weight");
      float[] values = w.toFloatArray();
      values[70] = Float.NaN;
      values[71] = Float.POSITIVE_INFINITY;
      t.put("model.layers.1.self_attn.v_proj.weight", w.getManager().create(values, w.getShape()));
    });
    CheckpointException e = assertThrows(CheckpointException.class, () -> Transformer.load(dir, manager));
    assertTrue(e.getMessage().contains(dir.resolve("model.safetensors").toString())
        && e.getMessage().contains("tensor model.layers.1.self_attn.v_proj.weight")
        && e.getMessage().contains("2 non-finite values (NaN at flat index 70)"), e.getMessage());
  }

  /** Header of a safetensors file with two F32 tensors of 4 elements each at the given offsets. */
  static void writeRaw(Path file, long aBegin, long bBegin, int dataBytes) throws IOException {
    String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + aBegin + "," + (aBegin + 16) + "]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + bBegin + "," + (bBegin + 16) + "]}}";
    byte[] json = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8 + json.length + dataBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buf.putLong(json.length).put(json);
    Files.write(file, buf.array());
  }

  @Test
  void overlappingOrOutOfFileByteRangesAreRefused(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("x.safetensors");
    writeRaw(file, 0, 16, 32);
    assertEquals(java.util.Set.of("a", "b"), Safetensors.open(file).names());
    writeRaw(file, 0, 8, 32);
    CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.open(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("tensors a and b overlap"), e.getMessage());
    writeRaw(file, 0, 0, 32);
    e = assertThrows(CheckpointException.class, () -> Safetensors.open(file));
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    writeRaw(file, 0, 16, 24);
    e = assertThrows(CheckpointException.class, () -> Safetensors.open(file));
    assertTrue(e.getMessage().contains("tensor b ends at byte"), e.getMessage());
    writeRaw(file, 0, Long.MAX_VALUE - 8, 32);
    e = assertThrows(CheckpointException.class, () -> Safetensors.open(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("tensor b"), e.getMessage());
  }
}
