package dev.art4j.examples.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A freshly initialised Qwen2-architecture checkpoint in Hugging Face layout: {@code config.json}
 * and {@code model.safetensors} (F32), initialised as transformers does
 * ({@code normal(0, 0.02)} for embeddings and projections, zero biases, RMSNorm weights 1), with
 * one exception: the output head is separate (not tied) and drawn with std {@value #HEAD_STD}. The
 * warm start trains only the projections (a merged LoRA), and with the final RMSNorm fixed at 1 a
 * logit is at most {@code sqrt(hidden) * |w|} ~ {@code hidden * std}: 0.02 would cap every logit
 * near 2.6, so no token could ever be predicted confidently. (Tied embeddings that wide would make
 * the random model predict its current input token with a logit near 30, which SFT must first
 * unlearn.) From a seeded {@link Random}: same seed, same bytes.
 *
 * <p>safetensors: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}}, padded with spaces to a multiple of 8), then
 * the raw little-endian tensor data in header order.
 */
final class RandomQwen2 {

  /** Std of the output head (see the class comment). */
  static final double HEAD_STD = 0.15;

  private RandomQwen2() {}

  /** {@code config.json} for {@code shape} with a separate output head; eos is {@code <|im_end|>}. */
  static ObjectNode config(ObjectMapper json, StarterSpec.Shape shape, int vocabSize, int eosId, int padId) {
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add("Qwen2ForCausalLM");
    c.put("model_type", "qwen2");
    c.put("hidden_size", shape.hidden());
    c.put("intermediate_size", shape.intermediate());
    c.put("num_hidden_layers", shape.layers());
    c.put("num_attention_heads", shape.heads());
    c.put("num_key_value_heads", shape.kvHeads());
    c.put("max_position_embeddings", shape.maxPositions());
    c.put("rope_theta", 10000.0);
    c.put("rms_norm_eps", 1e-6);
    c.put("hidden_act", "silu");
    c.put("vocab_size", vocabSize);
    c.put("tie_word_embeddings", false);
    c.put("bos_token_id", padId);
    c.put("eos_token_id", eosId);
    c.put("pad_token_id", padId);
    c.put("torch_dtype", "float32");
    c.put("use_sliding_window", false);
    c.put("attention_dropout", 0.0);
    c.put("initializer_range", 0.02);
    return c;
  }

  /** The tensors of a random Qwen2 model, in the order transformers names them. */
  static Map<String, Tensor> weights(StarterSpec.Shape s, int vocabSize, long seed) {
    Random rnd = new Random(seed);
    int h = s.hidden();
    int headDim = h / s.heads();
    int kv = s.kvHeads() * headDim;
    Map<String, Tensor> w = new LinkedHashMap<>();
    w.put("model.embed_tokens.weight", Tensor.normal(rnd, vocabSize, h));
    for (int l = 0; l < s.layers(); l++) {
      String p = "model.layers." + l + ".";
      w.put(p + "input_layernorm.weight", Tensor.ones(h));
      w.put(p + "self_attn.q_proj.weight", Tensor.normal(rnd, h, h));
      w.put(p + "self_attn.q_proj.bias", Tensor.zeros(h));
      w.put(p + "self_attn.k_proj.weight", Tensor.normal(rnd, kv, h));
      w.put(p + "self_attn.k_proj.bias", Tensor.zeros(kv));
      w.put(p + "self_attn.v_proj.weight", Tensor.normal(rnd, kv, h));
      w.put(p + "self_attn.v_proj.bias", Tensor.zeros(kv));
      w.put(p + "self_attn.o_proj.weight", Tensor.normal(rnd, h, h));
      w.put(p + "post_attention_layernorm.weight", Tensor.ones(h));
      w.put(p + "mlp.gate_proj.weight", Tensor.normal(rnd, s.intermediate(), h));
      w.put(p + "mlp.up_proj.weight", Tensor.normal(rnd, s.intermediate(), h));
      w.put(p + "mlp.down_proj.weight", Tensor.normal(rnd, h, s.intermediate()));
    }
    w.put("model.norm.weight", Tensor.ones(h));
    w.put("lm_head.weight", Tensor.normal(rnd, vocabSize, h, HEAD_STD));
    return w;
  }

  /** Share of a related token's row variance that is its family's (see {@link #relate}). */
  static final double SHARED = 0.5;

  /**
   * Gives every family of token ids one shared random component, the same in the input
   * embedding and in the output head: {@code row = sqrt(1 - SHARED) * row + sqrt(SHARED) * std * z},
   * one {@code z ~ N(0, I)} per family, {@code std} that of the matrix. Members of a family then
   * start correlated (0.5), and carrying one member's embedding forward raises the others' logits:
   * structure a pretrained model has for tokens that name the same thing, and that a warm start
   * from random weights otherwise has to find by chance (examples/README.md, tic-tac-toe).
   */
  static void relate(Map<String, Tensor> w, List<int[]> families, long seed) {
    Random rnd = new Random(seed);
    Tensor embed = w.get("model.embed_tokens.weight");
    Tensor head = w.get("lm_head.weight");
    int h = embed.shape()[1];
    double own = Math.sqrt(1 - SHARED);
    double shared = Math.sqrt(SHARED);
    for (int[] family : families) {
      double[] z = new double[h];
      for (int i = 0; i < h; i++) {
        z[i] = rnd.nextGaussian();
      }
      for (int id : family) {
        for (int i = 0; i < h; i++) {
          embed.data()[id * h + i] = (float) (own * embed.data()[id * h + i] + shared * 0.02 * z[i]);
          head.data()[id * h + i] = (float) (own * head.data()[id * h + i] + shared * HEAD_STD * z[i]);
        }
      }
    }
  }

  /** Writes {@code tensors} as one F32 safetensors file, in the map's order. */
  static void writeSafetensors(Path file, Map<String, Tensor> tensors) throws IOException {
    List<SafetensorsWriter.Tensor> out = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      float[] data = e.getValue().data();
      out.add(new SafetensorsWriter.Tensor(e.getKey(), "F32", Arrays.stream(e.getValue().shape()).asLongStream().toArray(),
          sink -> {
            ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(data);
            sink.write(buf);
          }));
    }
    SafetensorsWriter.write(file, Map.of("format", "pt"), out);
  }

  /** A row-major F32 tensor. */
  record Tensor(int[] shape, float[] data) {
    static Tensor normal(Random rnd, int rows, int cols) {
      return normal(rnd, rows, cols, 0.02);
    }

    static Tensor normal(Random rnd, int rows, int cols, double std) {
      float[] d = new float[rows * cols];
      for (int i = 0; i < d.length; i++) {
        d[i] = (float) (rnd.nextGaussian() * std);
      }
      return new Tensor(new int[] {rows, cols}, d);
    }

    static Tensor ones(int n) {
      float[] d = new float[n];
      java.util.Arrays.fill(d, 1f);
      return new Tensor(new int[] {n}, d);
    }

    static Tensor zeros(int n) {
      return new Tensor(new int[] {n}, new float[n]);
    }
  }
}
