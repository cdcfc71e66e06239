package dev.art4j.examples.starter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Projection;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.train.SftTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFT warm start of a starter: teaches the random model the format (a tool call, then the
 * tool's result as the answer) on the spec's demonstrations, then <em>merges</em> the trained
 * adapter into the weights and rewrites {@code model.safetensors}.
 *
 * <p>Why a merged full-rank LoRA rather than a saved adapter: the model starts random, so the
 * warm start must change every projection substantially. A LoRA of rank = hidden size over all
 * seven projections can express any update of those matrices (SFT through the library's own
 * {@link SftTrainer}, no second training code path), and merging it
 * ({@code W' = W + (alpha / r) * B A}) leaves a plain checkpoint: RL then trains its own small
 * adapter on top, exactly as it would on a downloaded model. Embeddings and norms stay as
 * initialised, which is why {@link RandomQwen2} draws the output head wide enough for confident
 * logits.
 */
final class WarmStart {

  private static final Logger log = LoggerFactory.getLogger(WarmStart.class);
  static final int BATCH = 24;
  /** Learning rate per phase; where each phase ends is the spec's {@link StarterSpec#phaseEnds()}. */
  static final double[] PHASES = {2e-3, 1e-3, 3e-4};

  private WarmStart() {}

  /** Runs the warm start in {@code dir}; returns its figures for {@code starter.json}. */
  static ObjectNode run(StarterSpec spec, List<List<Message>> demos, Path dir) throws IOException {
    ObjectNode info = JsonNodeFactory.instance.objectNode();
    info.put("steps", spec.sftSteps());
    if (spec.sftSteps() == 0) {
      info.put("status", "skipped (sftSteps = 0): random weights");
      return info;
    }
    long t0 = System.nanoTime();
    Map<String, RandomQwen2.Tensor> merged;
    List<Double> losses = new ArrayList<>();
    ArrayNode scores = JsonNodeFactory.instance.arrayNode();
    try (Policy policy = Policy.load(dir)) {
      Tokenizer tok = policy.tokenizer().orElseThrow(() -> new IllegalStateException("starter without tokenizer"));
      List<TokenSequence> seqs = new ArrayList<>(demos.size());
      for (List<Message> d : demos) {
        seqs.add(Supervision.tokens(d, spec.tools(), tok));
      }
      int rank = spec.shape().hidden();
      LoraConfig lora = new LoraConfig(rank, rank, 0.0);
      Random order = new Random(spec.seed() + 1);
      List<Integer> perm = new ArrayList<>();
      WarmStartGate gate = spec.gate();
      List<int[]> heldOut = gate == null ? List.of() : heldOut(spec, gate.heldOut(), tok);
      int next = 0;
      int step = 0;
      boolean passed = gate == null;
      // a step-wise decaying learning rate: one trainer per phase, all on the policy's one adapter
      // (the first trainer creates it; later ones continue it with fresh optimiser moments)
      for (int phase = 0; phase < PHASES.length; phase++) {
        boolean last = phase == PHASES.length - 1;
        int phaseEnd = last ? (gate == null ? spec.sftSteps() : gate.maxSteps())
            : (int) Math.round(spec.sftSteps() * spec.phaseEnds().get(phase));
        // no activation checkpointing: a starter's activations are small, and recomputing them only
        // costs time (measured: losses bit-identical over 30 math steps, and the tic-tac-toe seed-3
        // starter byte-identical with and without)
        TrainConfig config = TrainConfig.builder().learningRate(PHASES[phase]).weightDecay(0.0).maxGradNorm(1.0)
            .seed(spec.seed() + phase).activationCheckpointing(0.0).build();
        if (phase == 0) {
          config = config.toBuilder().linearWarmup(20).build();
        }
        try (SftTrainer sft = SftTrainer.builder(policy).config(config).lora(lora, spec.seed()).checkpointEvery(0).build()) {
          for (; step < phaseEnd && !(passed && step >= spec.sftSteps()); step++) {
            List<TokenSequence> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
              if (next == perm.size()) {
                perm.clear();
                for (int j = 0; j < seqs.size(); j++) {
                  perm.add(j);
                }
                Collections.shuffle(perm, order);
                next = 0;
              }
              batch.add(seqs.get(perm.get(next++)));
            }
            TrainResult r = sft.train(batch);
            losses.add(r.loss());
            if ((step + 1) % 50 == 0 || step == 0) {
              log.info("starter '{}' warm start: step {}/{} lr {} loss {} ({} s)", spec.name(), step + 1,
                  spec.sftSteps(), PHASES[phase], String.format("%.4f", r.loss()),
                  String.format("%.0f", (System.nanoTime() - t0) / 1e9));
            }
            if (gate != null && (step + 1) % gate.every() == 0) {
              double score = gate.score().applyAsDouble(policy, heldOut);
              scores.addObject().put("step", step + 1).put(gate.metric(), score);
              passed = score >= gate.target();
              log.info("starter '{}' warm start: step {} {} {} (target {})", spec.name(), step + 1, gate.metric(),
                  String.format("%.4f", score), gate.target());
            }
          }
        }
      }
      if (!passed) {
        log.warn("starter '{}': warm start ended at its cap of {} steps below the target {} of {}", spec.name(), step,
            gate.target(), gate.metric());
      }
      info.put("steps_run", step);
      if (gate != null) {
        info.put("gate_passed", passed);
        info.set("gate_scores", scores);
      }
      merged = merge(spec, policy, policy.adapter(), tok);
    }
    RandomQwen2.writeSafetensors(dir.resolve("model.safetensors"), merged); // written aside, moved into place
    int tail = Math.min(20, losses.size());
    info.put("status", "done");
    info.put("lora_rank", spec.shape().hidden());
    info.put("learning_rates", java.util.Arrays.toString(PHASES));
    info.put("phase_ends", spec.phaseEnds().toString());
    info.put("batch", BATCH);
    info.put("first_loss", losses.get(0));
    info.put("final_loss", losses.subList(losses.size() - tail, losses.size()).stream()
        .mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
    info.put("seconds", (System.nanoTime() - t0) / 1e9);
    return info;
  }

  /** Token ids of {@code n} demonstrations drawn from a seed the training demonstrations never use. */
  private static List<int[]> heldOut(StarterSpec spec, int n, Tokenizer tok) {
    Random rnd = new Random(~spec.seed());
    List<int[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(Supervision.tokens(spec.demonstration().apply(rnd), spec.tools(), tok).ids());
    }
    return out;
  }

  /** The base tensors with {@code scaling * B A} added to every adapted projection. */
  private static Map<String, RandomQwen2.Tensor> merge(StarterSpec spec, Policy policy, Lora lora, Tokenizer tok) {
    int vocab = policy.config().vocabSize();
    Map<String, RandomQwen2.Tensor> base = Starter.baseWeights(spec, vocab, tok::tokenToId);
    float scaling = lora.scaling();
    try (NDManager m = NDManager.newBaseManager()) {
      for (int layer = 0; layer < spec.shape().layers(); layer++) {
        for (Projection p : Projection.values()) {
          if (!lora.config().targets(p)) {
            continue;
          }
          NDArray a = lora.a(layer, p).duplicate();
          NDArray b = lora.b(layer, p).duplicate();
          a.attach(m);
          b.attach(m);
          float[] delta = b.matMul(a).mul(scaling).toFloatArray(); // (out, in)
          float[] w = base.get(p.path(layer) + ".weight").data();
          if (w.length != delta.length) {
            throw new IllegalStateException("LoRA shape differs from " + p.path(layer));
          }
          for (int i = 0; i < w.length; i++) {
            w[i] += delta[i];
          }
        }
      }
    }
    return base;
  }
}
