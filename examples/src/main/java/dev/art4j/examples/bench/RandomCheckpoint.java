package dev.art4j.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A random checkpoint in Hugging Face layout ({@code config.json} + one F32
 * {@code model.safetensors}), streamed to disk: the values are drawn straight into one 4 MB
 * buffer and written, so writing a 2 GB model takes 4 MB of memory rather than the model built in
 * memory, copied out and left to the garbage collector. Weights uniform with std 0.02, norms 1,
 * biases 0, deterministic in the seed.
 */
final class RandomCheckpoint {

  private static final int BUFFER_FLOATS = 1 << 20;

  private record Tensor(String name, long[] shape, Fill fill) {
    long size() {
      return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }
  }

  private enum Fill { RANDOM, ONES, ZEROS }

  private RandomCheckpoint() {}

  /** Writes {@code configJson} and random weights of its shape into {@code dir}. */
  static void write(Path dir, String configJson, long seed) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ModelConfig c = ModelConfig.parse(json.readTree(configJson), "config.json");
    Files.writeString(dir.resolve("config.json"), configJson);
    List<Tensor> tensors = tensors(c);

    SplittableRandom random = new SplittableRandom(seed); // one stream over the tensors, in file order
    double bound = 0.02 * Math.sqrt(3);
    List<SafetensorsWriter.Tensor> out = new ArrayList<>();
    for (Tensor t : tensors) {
      out.add(new SafetensorsWriter.Tensor(t.name(), "F32", t.shape(), sink -> {
        ByteBuffer buf = ByteBuffer.allocate(4 * BUFFER_FLOATS).order(ByteOrder.LITTLE_ENDIAN);
        for (long left = t.size(); left > 0; ) {
          int n = (int) Math.min(left, BUFFER_FLOATS);
          buf.clear();
          for (int i = 0; i < n; i++) {
            float v = switch (t.fill()) {
              case RANDOM -> (float) ((random.nextDouble() * 2 - 1) * bound);
              case ONES -> 1f;
              case ZEROS -> 0f;
            };
            buf.putFloat(v);
          }
          buf.flip();
          sink.write(buf);
          left -= n;
        }
      }));
    }
    SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("format", "pt"), out);
  }

  private static List<Tensor> tensors(ModelConfig c) {
    long d = c.hiddenSize();
    long q = (long) c.numAttentionHeads() * c.headDim();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    long f = c.intermediateSize();
    List<Tensor> out = new ArrayList<>();
    out.add(new Tensor("model.embed_tokens.weight", new long[] {c.vocabSize(), d}, Fill.RANDOM));
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      String p = "model.layers." + l + ".";
      out.add(new Tensor(p + "input_layernorm.weight", new long[] {d}, Fill.ONES));
      out.add(new Tensor(p + "post_attention_layernorm.weight", new long[] {d}, Fill.ONES));
      projection(out, p + "self_attn.q_proj", q, d, c.attentionBias());
      projection(out, p + "self_attn.k_proj", kv, d, c.attentionBias());
      projection(out, p + "self_attn.v_proj", kv, d, c.attentionBias());
      projection(out, p + "self_attn.o_proj", d, q, c.outputBias());
      if (c.qkNorm()) {
        out.add(new Tensor(p + "self_attn.q_norm.weight", new long[] {c.headDim()}, Fill.ONES));
        out.add(new Tensor(p + "self_attn.k_norm.weight", new long[] {c.headDim()}, Fill.ONES));
      }
      projection(out, p + "mlp.gate_proj", f, d, c.mlpBias());
      projection(out, p + "mlp.up_proj", f, d, c.mlpBias());
      projection(out, p + "mlp.down_proj", d, f, c.mlpBias());
    }
    out.add(new Tensor("model.norm.weight", new long[] {d}, Fill.ONES));
    if (!c.tieWordEmbeddings()) {
      out.add(new Tensor("lm_head.weight", new long[] {c.vocabSize(), d}, Fill.RANDOM));
    }
    return out;
  }

  private static void projection(List<Tensor> out, String name, long rows, long cols, boolean bias) {
    out.add(new Tensor(name + ".weight", new long[] {rows, cols}, Fill.RANDOM));
    if (bias) {
      out.add(new Tensor(name + ".bias", new long[] {rows}, Fill.ZEROS));
    }
  }
}
