package dev.art4j.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.examples.cli.ComputeOptions;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.LossType;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code art4j bench train}: GRPO steps on a random model of Qwen2.5-0.5B's shape (or a given
 * checkpoint), LoRA rank 8 on all linear layers, one group of {@code --batch} sequences of
 * {@code --seq} tokens; prints one JSON object with {@code train_tok_s} (sequence tokens per
 * second of the step), {@code forward_backward_s} (split into {@code forward_s}, {@code head_s} and
 * {@code backward_s}), {@code optimizer_s}, {@code checkpointed_layers}, {@code peak_rss_mb} and
 * {@code prefill_tok_s} of a no-grad forward of the same batch, with {@code train_to_prefill}, their
 * ratio. The prefill runs before every step and once after the last, and each figure is the best
 * of its runs: a ratio of two figures taken minutes apart drifts with this machine's speed.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Benchmark one GRPO step (LoRA rank 8, all linear layers) and print JSON.")
public final class BenchTrainCommand implements Callable<Integer> {

  /** Qwen2.5-0.5B's config.json (the fields the model reads). */
  static final String QWEN25_05B = "{\"model_type\":\"qwen2\",\"vocab_size\":151936,\"hidden_size\":896,"
      + "\"intermediate_size\":4864,\"num_hidden_layers\":24,\"num_attention_heads\":14,"
      + "\"num_key_value_heads\":2,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,"
      + "\"tie_word_embeddings\":true,\"max_position_embeddings\":32768,\"eos_token_id\":151643,"
      + "\"torch_dtype\":\"float32\"}";

  @Spec CommandSpec spec;
  @Mixin JsonOutput output = new JsonOutput();
  @Mixin ComputeOptions compute = new ComputeOptions();

  @Option(names = "--model", paramLabel = "DIR",
      description = "Checkpoint to train (default: a random Qwen2.5-0.5B-shaped model).")
  Path model;

  @Option(names = "--batch", defaultValue = "8", description = "Sequences per step (one group; default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seq", defaultValue = "512", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
  int seq;

  @Option(names = "--prompt", defaultValue = "64",
      description = "Prompt tokens per sequence, not trained on (default ${DEFAULT-VALUE}).")
  int prompt;

  @Option(names = "--token-budget", defaultValue = "1024",
      description = "Micro-batch token budget (default ${DEFAULT-VALUE}).")
  int tokenBudget;

  @Option(names = "--steps", defaultValue = "2",
      description = "GRPO steps; the figures are the best step's (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--loss", defaultValue = "CISPO", description = "Loss type: ${COMPLETION-CANDIDATES}.")
  LossType loss;

  @Option(names = "--activation-checkpointing", paramLabel = "FRACTION",
      description = "Fraction of the layers recomputed in backward instead of kept (default: the trainer's "
          + "auto, TrainConfig.activationCheckpointing: the fewest for the memory available).")
  Double checkpointing;

  @Option(names = "--selective-checkpointing", paramLabel = "BOOL", arity = "1",
      description = "Whether the layers not checkpointed recompute their attention probabilities and MLP "
          + "activation (default: the trainer's auto, TrainConfig.selectiveCheckpointing: off where all fits).")
  Boolean selective;

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    try {
      compute.validate();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cmd, e.getMessage());
    }
    if (compute.backend() != null) {
      throw new CommandLine.ParameterException(cmd, "--backend: bench train measures the trainer, which runs the "
          + "model's own forward, not the inference engine (use --device/--dtype)");
    }
    if (batch < 2 || seq < 2 || prompt < 1 || prompt >= seq || tokenBudget < 1 || steps < 1) {
      throw new CommandLine.ParameterException(cmd,
          "need --batch >= 2, --seq >= 2, 1 <= --prompt < --seq, --token-budget >= 1, --steps >= 1");
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    Path tmp = null;
    Path dir = model;
    long t0 = System.nanoTime();
    ObjectNode memory = json.createObjectNode();
    MemoryPhases phases = new MemoryPhases(memory);
    if (dir == null) {
      tmp = Files.createTempDirectory("art4j-bench-train");
      dir = tmp;
      RandomCheckpoint.write(dir, QWEN25_05B, 1);
      phases.mark("after_write_checkpoint");
      out.put("model", "random Qwen2.5-0.5B shape");
      out.put("setup_s", (System.nanoTime() - t0) / 1e9);
    } else {
      out.put("model", dir.toString());
    }
    try (Policy policy = compute.apply(Policy.builder(dir)).build()) {
      phases.mark("after_load");
      out.put("device", policy.device().toString());
      out.put("dtype", policy.model().dataType().toString().toLowerCase(java.util.Locale.ROOT));
      out.put("batch", batch);
      out.put("seq", seq);
      out.put("prompt", prompt);
      out.put("token_budget", tokenBudget);
      out.put("loss", loss.name());
      int vocab = policy.config().vocabSize();
      List<TrajectoryGroup> groups = List.of(group(vocab));

      TrainConfig.Builder config = TrainConfig.builder().lossType(loss).learningRate(1e-5).tokenBudget(tokenBudget);
      if (checkpointing != null) {
        config.activationCheckpointing(checkpointing);
      }
      if (selective != null) {
        config.selectiveCheckpointing(selective);
      }
      TrainConfig trainConfig = config.build();
      if (trainConfig.activationCheckpointing() == null) {
        out.put("activation_checkpointing", "auto"); // what it chose: checkpointed_layers, selective_checkpointing
      } else {
        out.put("activation_checkpointing", trainConfig.activationCheckpointing());
      }
      try (GrpoTrainer trainer = GrpoTrainer.builder(policy)
          .config(trainConfig)
          .lora(new LoraConfig(8, 16, 0.0), 1)
          .build()) {
        out.put("lora_parameters", trainer.adapter().parameters().stream().mapToLong(NDArray::size).sum());
        phases.mark("after_trainer");
        double prefill = Double.MAX_VALUE;
        TrainResult best = null;
        for (int s = 0; s <= steps; s++) {
          double p = prefillSeconds(policy, groups);
          cmd.getErr().printf("bench train: prefill %.1f s%n", p);
          prefill = Math.min(prefill, p);
          if (s == 0) {
            phases.mark("after_prefill");
          }
          if (s == steps) {
            break;
          }
          TrainResult r = trainer.train(groups);
          cmd.getErr().printf("bench train: step %d %.1f s%n", s + 1, r.metric("seconds"));
          phases.mark("after_step_" + (s + 1));
          if (best == null || r.metric("seconds") < best.metric("seconds")) {
            best = r;
          }
        }
        double tokens = (double) batch * seq;
        out.put("train_tok_s", tokens / best.metric("seconds"));
        out.put("prefill_tok_s", tokens / prefill);
        out.put("train_to_prefill", prefill / best.metric("seconds"));
        out.put("step_s", best.metric("seconds"));
        out.put("forward_backward_s", best.metric("forward_backward_s"));
        out.put("optimizer_s", best.metric("optimizer_s"));
        out.put("forward_s", best.metric("forward_s"));
        out.put("head_s", best.metric("head_s"));
        out.put("backward_s", best.metric("backward_s"));
        out.put("checkpointed_layers", (int) best.metric("checkpointed_layers"));
        out.put("selective_checkpointing", best.metric("selective_checkpointing") == 1.0);
        out.put("trained_tokens", best.metric("tokens"));
        out.put("padding_fraction", best.metric("padding_fraction"));
        out.put("loss_value", best.loss());
        out.put("grad_norm", best.gradNorm());
      }
      out.put("peak_rss_mb", phases.peakMb());
      out.set("memory", memory);
    } finally {
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
    output.print(cmd, out);
    cmd.getOut().flush();
    return 0;
  }

  /** One group: random prompt and completion tokens, rewards 0/1 alternating, made-up log-probs. */
  private TrajectoryGroup group(int vocab) {
    SplittableRandom random = new SplittableRandom(7);
    List<Trajectory> ts = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      int[] p = new int[prompt];
      int[] s = new int[seq - prompt];
      float[] lp = new float[s.length];
      for (int j = 0; j < p.length; j++) {
        p[j] = random.nextInt(vocab);
      }
      for (int j = 0; j < s.length; j++) {
        s[j] = random.nextInt(vocab);
        lp[j] = (float) (-Math.log(vocab) + random.nextDouble() * 0.2 - 0.1);
      }
      ts.add(Trajectory.ofMessages(List.of(Message.user("bench")))
          .withTurns(List.of(new Turn(p, s, lp))).withReward(i % 2));
    }
    return TrajectoryGroup.of(ts);
  }

  /**
   * One no-grad forward of the batch, in the training step's micro-batches (as many sequences as
   * the token budget holds), with the LM head on the last position only, as a prefill.
   */
  private double prefillSeconds(Policy policy, List<TrajectoryGroup> groups) {
    List<Trajectory> rows = groups.get(0).trajectories();
    int chunk = Math.max(1, tokenBudget / seq);
    long start = System.nanoTime();
    for (int from = 0; from < rows.size(); from += chunk) {
      int n = Math.min(chunk, rows.size() - from);
      long[] ids = new long[n * seq];
      for (int i = 0; i < n; i++) {
        int[] t = rows.get(from + i).tokens().ids();
        for (int j = 0; j < seq; j++) {
          ids[i * seq + j] = t[j];
        }
      }
      try (NDManager m = policy.manager().newSubManager()) {
        NDArray input = m.create(ids, new Shape(n, seq));
        NDArray positions = m.arange(0, seq).toType(ai.djl.ndarray.types.DataType.INT64, false)
            .reshape(1, seq).repeat(0, n);
        NDArray hidden = policy.model().hidden(input, positions, null, null, policy.adapter()); // (n, seq, D)
        policy.model().logits(hidden.get(":, -1, :")).toFloatArray();
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
