package dev.art4j.train;

import ai.djl.ndarray.NDManager;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.model.Policy;
import dev.art4j.template.ChatTemplate;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.Trajectory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Supervised fine-tuning of the LoRA adapter of a {@link Policy}: cross-entropy on the assistant
 * tokens of given conversations, for warm starts and distillation. One {@link #train} call is
 * one optimiser step over the batch:
 *
 * <pre>
 * L = -(1/T) * sum over assistant tokens t of log p(x_t | x_&lt;t)      (T = assistant tokens in the batch)
 * </pre>
 *
 * <p>The assistant tokens are the {@code sampled} positions of each {@link TokenSequence}
 * (a {@link Trajectory}'s {@code tokens()} marks exactly those; {@link #tokenize} marks the
 * assistant messages of a plain conversation through the model's chat template). Same optimiser, micro-batching,
 * checkpoints, run store and resume as {@link GrpoTrainer}; the two may share a run (an SFT warm
 * start, then GRPO continuing from its last checkpoint).
 */
public final class SftTrainer extends LoraTrainer {

  private static final TrainingLoss LOSS = new CrossEntropyLoss();

  private SftTrainer(TrainingLoop core) {
    super(core);
  }

  public static Builder builder(Policy policy) {
    return new Builder(policy);
  }

  /** One step on the assistant tokens of {@code trajectories} ({@link Trajectory#tokens()}). */
  public TrainResult trainTrajectories(List<Trajectory> trajectories) {
    return train(trajectories.stream().map(Trajectory::tokens).toList());
  }

  /**
   * One step on {@code batch}: cross-entropy on the sampled (assistant) positions.
   *
   * @throws IllegalArgumentException if no sequence has a trainable token
   */
  public TrainResult train(List<TokenSequence> batch) {
    long start = System.nanoTime();
    int step = core.step() + 1;
    for (int i = 0; i < batch.size(); i++) {
      Sample.checkIds(batch.get(i).ids(), core.policy.config().vocabSize(), "sequence " + i);
    }
    List<Sample> samples = samples(batch);
    double lr = core.learningRate(step);
    TrainingLoop.Step done = core.step(step, lr, samples, LOSS, false, start);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("loss", done.sums().loss());
    done.putMetrics(metrics);
    core.finish(step, null, metrics, null);
    return new TrainResult(step, false, null, metrics);
  }

  /**
   * A conversation as a training sequence: the ids of the whole rendered conversation, with the
   * tokens of each assistant message (its content through its end-of-turn token) marked as the
   * ones to train on. Each assistant message {@code i} spans from the tokens of
   * {@code messages[..i)} rendered with the generation prompt to those of {@code messages[..i]};
   * trailing tokens after the span's last end-of-turn token (a newline) are not trained.
   * Log-probs are NaN (there was no sampling).
   *
   * @throws IllegalArgumentException if the template renders an earlier part of the conversation
   *     differently once later messages follow (then no token-exact mask exists)
   */
  public static TokenSequence tokenize(ChatTemplate template, Tokenizer tokenizer, List<Message> conversation,
      List<ToolSpec> tools) {
    int[] ids = tokenizer.encode(template.render(conversation, tools, false, null));
    boolean[] sampled = new boolean[ids.length];
    java.util.Set<Integer> eos = new java.util.HashSet<>(tokenizer.eosTokenIds());
    for (int i = 0; i < conversation.size(); i++) {
      if (conversation.get(i).role() != Role.ASSISTANT) {
        continue;
      }
      int[] before = tokenizer.encode(template.render(conversation.subList(0, i), tools, true, null));
      int[] through = tokenizer.encode(template.render(conversation.subList(0, i + 1), tools, false, null));
      if (!startsWith(through, before) || !startsWith(ids, through)) {
        throw new IllegalArgumentException("message " + i + ": the chat template renders the conversation up to"
            + " this assistant message differently from the whole conversation; cannot mask its tokens");
      }
      int end = through.length;
      for (int t = through.length - 1; t >= before.length; t--) {
        if (eos.contains(through[t])) {
          end = t + 1;
          break;
        }
      }
      for (int t = before.length; t < end; t++) {
        sampled[t] = true;
      }
    }
    float[] logprobs = new float[ids.length];
    Arrays.fill(logprobs, Float.NaN);
    return new TokenSequence(ids, sampled, logprobs);
  }

  private static boolean startsWith(int[] a, int[] prefix) {
    return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }

  /** The cross-entropy over {@code samples} without an optimiser step (tests). */
  StepSums accumulate(List<Sample> samples, NDManager scope, boolean backward) {
    return core.accumulate(samples, LOSS, false, scope, backward);
  }

  /** Sequences with weight {@code 1/T} on every assistant token of the batch. */
  static List<Sample> samples(List<TokenSequence> batch) {
    Objects.requireNonNull(batch, "batch");
    List<int[]> positions = new ArrayList<>();
    long total = 0;
    for (TokenSequence s : batch) {
      int[] pos = Sample.trainedPositions(s.sampled());
      positions.add(pos);
      total += pos.length;
    }
    if (total == 0) {
      throw new IllegalArgumentException("SFT batch of " + batch.size()
          + " sequences has no assistant (sampled) token after position 0");
    }
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      int[] pos = positions.get(i);
      if (pos.length == 0) {
        continue;
      }
      float[] w = new float[pos.length];
      Arrays.fill(w, (float) (1.0 / total));
      out.add(new Sample(batch.get(i).ids(), pos, new float[pos.length], w, 0f, 0f));
    }
    return out;
  }

  /** Options of an {@link SftTrainer} (the loss-type fields of the config are ignored): see {@link TrainerBuilder}. */
  public static final class Builder extends TrainerBuilder<SftTrainer, Builder> {
    private Builder(Policy policy) {
      super(policy);
    }

    @Override
    public SftTrainer build() {
      return new SftTrainer(new TrainingLoop(policy, options, "sft"));
    }
  }
}
