package dev.art4j.core.trajectory;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One rollout: the conversation, the exact tokens of every assistant turn, and its reward.
 * Immutable; the {@code with*} methods return changed copies (a judge returns new
 * trajectories, it never edits the ones a rollout produced).
 *
 * @param messages the conversation in chat form
 * @param tools    the tools the agent was offered
 * @param turns    per assistant turn: prompt ids, sampled ids, sampled log-probs
 * @param reward   the scalar the trainer optimises
 * @param metrics  named numbers (success, ruler_score, independent_reward, ...)
 * @param metadata free-form scenario data (id, difficulty, reference answer, ...)
 * @param logs     human-readable notes (judge explanations, tool errors, ...)
 * @param timings  seconds spent per phase (sampling, tools, ...)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Trajectory(
    @JsonProperty("messages") List<Message> messages,
    @JsonProperty("tools") List<ToolSpec> tools,
    @JsonProperty("turns") List<Turn> turns,
    @JsonProperty("reward") double reward,
    @JsonProperty("metrics") Map<String, Double> metrics,
    @JsonProperty("metadata") Map<String, Object> metadata,
    @JsonProperty("logs") List<String> logs,
    @JsonProperty("timings") Map<String, Double> timings) {

  public Trajectory {
    messages = messages == null ? List.of() : List.copyOf(messages);
    tools = tools == null ? List.of() : List.copyOf(tools);
    turns = turns == null ? List.of() : List.copyOf(turns);
    metrics = metrics == null ? Map.of() : unmodifiableCopy(metrics);
    metadata = metadata == null ? Map.of() : unmodifiableCopy(metadata);
    logs = logs == null ? List.of() : List.copyOf(logs);
    timings = timings == null ? Map.of() : unmodifiableCopy(timings);
  }

  /** A trajectory with messages only (no tokens), e.g. read back from a run store for judging. */
  public static Trajectory ofMessages(List<Message> messages) {
    return new Trajectory(messages, null, null, 0.0, null, null, null, null);
  }

  public Trajectory withReward(double newReward) {
    return new Trajectory(messages, tools, turns, newReward, metrics, metadata, logs, timings);
  }

  public Trajectory withMetric(String name, double value) {
    Map<String, Double> m = new LinkedHashMap<>(metrics);
    m.put(name, value);
    return new Trajectory(messages, tools, turns, reward, m, metadata, logs, timings);
  }

  public Trajectory withLog(String line) {
    List<String> l = new ArrayList<>(logs);
    l.add(line);
    return new Trajectory(messages, tools, turns, reward, metrics, metadata, l, timings);
  }

  public Trajectory withMetadata(String key, Object value) {
    Map<String, Object> m = new LinkedHashMap<>(metadata);
    m.put(key, value);
    return new Trajectory(messages, tools, turns, reward, metrics, m, logs, timings);
  }

  public Trajectory withMessages(List<Message> newMessages) {
    return new Trajectory(newMessages, tools, turns, reward, metrics, metadata, logs, timings);
  }

  public Trajectory withTurns(List<Turn> newTurns) {
    return new Trajectory(messages, tools, newTurns, reward, metrics, metadata, logs, timings);
  }

  public Trajectory withTimings(Map<String, Double> newTimings) {
    return new Trajectory(messages, tools, turns, reward, metrics, metadata, logs, newTimings);
  }

  /** This trajectory without its token data (what the run store writes to disk). */
  public Trajectory withoutTokens() {
    return withTurns(List.of());
  }

  /**
   * The whole conversation as one token sequence for training: the last turn's prompt plus
   * its sampled ids, with every turn's sampled positions marked. Requires token-in/token-out
   * bookkeeping: each turn's prompt must start with the previous turn's prompt + sampled ids.
   *
   * @throws IllegalStateException if there are no turns or a turn does not extend the previous one
   */
  public TokenSequence tokens() {
    if (turns.isEmpty()) {
      throw new IllegalStateException("trajectory has no token data (no assistant turns recorded)");
    }
    Turn last = turns.get(turns.size() - 1);
    int n = last.promptIds().length + last.sampledIds().length;
    int[] ids = Arrays.copyOf(last.promptIds(), n);
    System.arraycopy(last.sampledIds(), 0, ids, last.promptIds().length, last.sampledIds().length);
    boolean[] sampled = new boolean[n];
    float[] logprobs = new float[n];
    Arrays.fill(logprobs, Float.NaN);
    float[] temperatures = new float[n];
    Arrays.fill(temperatures, 1f);
    for (int t = 0; t < turns.size(); t++) {
      Turn turn = turns.get(t);
      int start = turn.promptIds().length;
      for (int i = 0; i < start; i++) {
        if (ids[i] != turn.promptIds()[i]) {
          throw new IllegalStateException("turn " + t + " prompt differs from the conversation at token " + i
              + ": token-in/token-out broken (a turn must extend the previous one)");
        }
      }
      for (int i = 0; i < turn.sampledIds().length; i++) {
        if (ids[start + i] != turn.sampledIds()[i]) {
          throw new IllegalStateException("turn " + t + " sampled token " + i
              + " differs from the next turn's prompt: token-in/token-out broken");
        }
        sampled[start + i] = true;
        logprobs[start + i] = turn.logprobs()[i];
        temperatures[start + i] = turn.temperature();
      }
    }
    return new TokenSequence(ids, sampled, logprobs, temperatures);
  }

  private static <K, V> Map<K, V> unmodifiableCopy(Map<K, V> m) {
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
  }
}
