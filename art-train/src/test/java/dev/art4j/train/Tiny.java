package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.art4j.core.chat.Message;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Policy;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The tiny reference checkpoints of {@code fixtures/models} and trajectories over them. */
final class Tiny {

  private Tiny() {}

  static Path model(String name) {
    Path dir = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models").resolve(name);
    assertTrue(Files.isDirectory(dir), "fixture model missing: " + dir);
    return dir;
  }

  static Policy qwen2() throws IOException {
    return Policy.load(model("tiny-qwen2"));
  }

  /** log p(token | prefix) for every token of the vocabulary, under the policy's current adapter. */
  static float[] nextLogprobs(Policy policy, int[] prefix) {
    return nextLogprobs(policy, policy.adapter(), prefix);
  }

  static float[] nextLogprobs(Policy policy, Lora adapter, int[] prefix) {
    try (NDManager m = policy.manager().newSubManager()) {
      long[] ids = new long[prefix.length];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = prefix[i];
      }
      NDArray logits = policy.model().forward(m.create(ids).reshape(1, ids.length), adapter); // (1, T, V)
      return logits.get(0, ids.length - 1).logSoftmax(-1).toFloatArray();
    }
  }

  /** Log-probs of each sampled token given the prompt and the sampled tokens before it. */
  static float[] sampledLogprobs(Policy policy, int[] prompt, int[] sampled) {
    float[] out = new float[sampled.length];
    int[] prefix = prompt.clone();
    for (int i = 0; i < sampled.length; i++) {
      out[i] = nextLogprobs(policy, prefix)[sampled[i]];
      prefix = java.util.Arrays.copyOf(prefix, prefix.length + 1);
      prefix[prefix.length - 1] = sampled[i];
    }
    return out;
  }

  /** A one-turn trajectory with the given reward and sampling-time log-probs. */
  static Trajectory trajectory(int[] prompt, int[] sampled, float[] logprobs, double reward) {
    return Trajectory.ofMessages(List.of(Message.user("q"), Message.assistant("a")))
        .withTurns(List.of(new Turn(prompt, sampled, logprobs))).withReward(reward);
  }

  /**
   * Two turns, as an agent with one tool call produces: the second prompt extends the first
   * turn with a tool result, so only the two sampled stretches are trained.
   */
  static Trajectory twoTurns(int[] prompt, int[] first, int[] tool, int[] second, float shift, double reward) {
    int[] p2 = concat(concat(prompt, first), tool);
    float[] lp1 = new float[first.length];
    float[] lp2 = new float[second.length];
    for (int i = 0; i < lp1.length; i++) {
      lp1[i] = -5.5f + shift * (i + 1);
    }
    for (int i = 0; i < lp2.length; i++) {
      lp2[i] = -5.6f - shift * i;
    }
    List<Turn> turns = new ArrayList<>();
    turns.add(new Turn(prompt, first, lp1));
    turns.add(new Turn(p2, second, lp2));
    return Trajectory.ofMessages(List.of(Message.user("q"))).withTurns(turns).withReward(reward);
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * A fixed, off-policy batch: two groups of mixed-length multi-turn trajectories with rewards
   * of both signs, sampling log-probs made up so that ratios are not 1.
   */
  static List<TrajectoryGroup> fixedGroups() {
    int[] p1 = {1, 17, 33, 50, 7};
    int[] p2 = {1, 90, 4};
    return List.of(
        TrajectoryGroup.of(List.of(
            twoTurns(p1, new int[] {11, 12, 13}, new int[] {200, 201}, new int[] {14, 2}, 0.3f, 1.0),
            twoTurns(p1, new int[] {21, 22}, new int[] {200, 202}, new int[] {23, 24, 25, 2}, -0.2f, 0.0),
            trajectory(p1, new int[] {31, 32, 33, 34, 35, 36}, new float[] {-5f, -6f, -5.2f, -5.8f, -4f, -7f}, 0.5))),
        TrajectoryGroup.of(List.of(
            trajectory(p2, new int[] {40, 41}, new float[] {-5.3f, -5.9f}, 0.0),
            trajectory(p2, new int[] {42, 43, 44}, new float[] {-6.1f, -4.9f, -5.5f}, 1.0))));
  }

  /** Current-process resident set size, bytes (Linux). */
  static long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
