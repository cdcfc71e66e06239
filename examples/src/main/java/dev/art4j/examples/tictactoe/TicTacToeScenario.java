package dev.art4j.examples.tictactoe;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One game to play: the opponent's random seed and who moves first. No dataset is needed; train
 * and held-out games differ by seed.
 *
 * @param id          stable id ({@code train-3}, {@code val-0})
 * @param seed        seeds the opponent's random legal moves
 * @param agentStarts whether the agent (X) moves first
 */
public record TicTacToeScenario(String id, long seed, boolean agentStarts) {

  /** {@code n} games drawn from {@code seed}, ids {@code prefix-0 ...}. */
  public static List<TicTacToeScenario> draw(long seed, int n, String prefix) {
    Random rnd = new Random(seed);
    List<TicTacToeScenario> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new TicTacToeScenario(prefix + "-" + i, rnd.nextLong(), rnd.nextBoolean()));
    }
    return out;
  }

  /** Train and held-out games from one seed (disjoint seed streams). */
  public static List<List<TicTacToeScenario>> split(long seed, int train, int val) {
    return List.of(draw(seed * 31 + 1, train, "train"), draw(seed * 31 + 2, val, "val"));
  }

  Map<String, Object> metadata() {
    return Map.of("id", id, "seed", seed, "agent_starts", agentStarts);
  }
}
