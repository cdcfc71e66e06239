package dev.art4j.core.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Speed and memory of the forward pass on a random model of Qwen2.5-0.5B's shape; prints one JSON
 * object. Arguments (all optional): batch, tokens per sequence for the training step, steps.
 *
 * <pre>
 * mvn -B -q -o -pl art-core test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -Xmx6g -cp art-core/target/test-classes:art-core/target/classes:$(cat art-core/target/cp.txt) \
 *   dev.art4j.core.model.ForwardBenchmark 4 128 10
 * </pre>
 */
public final class ForwardBenchmark {

  /** Qwen2.5-0.5B's config.json, minus the fields the model does not read. */
  static final String QWEN25_05B = "{\"model_type\":\"qwen2\",\"vocab_size\":151936,\"hidden_size\":896,"
      + "\"intermediate_size\":4864,\"num_hidden_layers\":24,\"num_attention_heads\":14,"
      + "\"num_key_value_heads\":2,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,"
      + "\"tie_word_embeddings\":true,\"max_position_embeddings\":32768,\"eos_token_id\":151643}";

  public static void main(String[] args) throws Exception {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int seq = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    ModelConfig config = ModelConfig.parse(new ObjectMapper().readTree(QWEN25_05B), "Qwen2.5-0.5B");
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("model", "random Qwen2.5-0.5B shape, fp32, CPU");
    out.put("batch", batch);
    out.put("seq", seq);
    Random random = new Random(1);
    try (NDManager root = NDManager.newBaseManager()) {
      long t0 = System.nanoTime();
      Transformer model = Transformer.random(config, 1, root);
      out.put("random_init_s", (System.nanoTime() - t0) / 1e9);
      Lora lora = Lora.create(config, new LoraConfig(8, 16, 0), 2, root);
      for (NDArray p : lora.parameters()) { // non-zero B so the adapter path does real work
        p.set(root.randomNormal(p.getShape()).mul(0.01f).toFloatArray());
      }
      long[][] ids = new long[batch][seq];
      for (long[] row : ids) {
        for (int j = 0; j < seq; j++) {
          row[j] = random.nextInt(config.vocabSize());
        }
      }

      // training step: forward with the adapter, token log-probs, backward into A/B
      double rss0 = 0;
      double best = Double.MAX_VALUE;
      for (int s = 0; s < steps; s++) {
        long start = System.nanoTime();
        try (NDManager step = root.newSubManager();
            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray input = step.create(ids);
          NDArray hidden = model.hidden(input, positions(step, batch, seq), null, null, lora);
          NDArray logp = model.logits(hidden).logSoftmax(-1); // (B, T, V)
          NDArray target = input.get(":, 1:").expandDims(-1);
          NDArray loss = logp.get(":, :-1, :").gather(target, -1).mean().neg();
          gc.backward(loss);
        }
        for (NDArray p : lora.parameters()) {
          p.getGradient().close();
        }
        best = Math.min(best, (System.nanoTime() - start) / 1e9);
        if (s == 1) {
          rss0 = rssMiB();
        }
      }
      out.put("train_step_best_s", best);
      out.put("train_tokens_per_s", batch * seq / best);
      out.put("rss_after_step_2_mib", rss0);
      out.put("rss_after_last_step_mib", rssMiB());

      // inference prefill (no gradients), adapter on
      best = Double.MAX_VALUE;
      for (int s = 0; s < 3; s++) {
        long start = System.nanoTime();
        try (NDManager step = root.newSubManager()) {
          model.forward(step.create(ids), positions(step, batch, seq), null, null, lora).get(":, -1, :").toFloatArray();
        }
        best = Math.min(best, (System.nanoTime() - start) / 1e9);
      }
      out.put("prefill_tokens_per_s", batch * seq / best);

      // cached decode, one token per step
      for (int b : new int[] {1, batch}) {
        try (ReferenceKvCache cache = ReferenceKvCache.create(config, seq + 40, root)) {
          try (NDManager step = root.newSubManager()) {
            long[][] prompt = new long[b][];
            System.arraycopy(ids, 0, prompt, 0, b);
            model.forward(step.create(prompt), positions(step, b, seq), null, cache, lora);
          }
          int n = 20;
          long start = System.nanoTime();
          for (int i = 0; i < n; i++) {
            try (NDManager step = root.newSubManager()) {
              int past = cache.length();
              NDArray pos = step.full(new Shape(b, 1), past, DataType.INT64);
              NDArray logits = model.forward(step.ones(new Shape(b, 1), DataType.INT64), pos,
                  step.ones(new Shape(b, past + 1), DataType.INT64), cache, lora);
              logits.argMax(-1).toLongArray();
            }
          }
          double s = (System.nanoTime() - start) / 1e9;
          out.put("decode_batch" + b + "_step_ms", 1000 * s / n);
          out.put("decode_batch" + b + "_tokens_per_s", b * n / s);
        }
      }
      lora.close();
      model.close();
    }
    System.out.println(out);
  }

  static NDArray positions(NDManager m, int batch, int seq) {
    return m.arange(0L, (long) seq).toType(DataType.INT64, false).reshape(1, seq).repeat(0, batch);
  }

  static double rssMiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return -1;
  }

  private ForwardBenchmark() {}

}
