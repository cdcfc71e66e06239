package dev.art4j.examples.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.examples.tictactoe.TicTacToeScenario;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order tic-tac-toe games are trained in, and the held-out split. */
class TicTacToeRlTest {

  @Test
  void everyStepHalfOpensHalfAnswers() {
    TicTacToeRl task = new TicTacToeRl(1, 500, 200);
    List<TicTacToeScenario> order = task.trainOrder(1);
    assertTrue(order.size() > 400, "pairs up all but a few games: " + order.size());
    for (int i = 0; i + 1 < order.size(); i += 2) {
      assertTrue(order.get(i).agentStarts() && !order.get(i + 1).agentStarts(), "alternating at " + i);
    }
    assertEquals(order.size(), new HashSet<>(order).size(), "no game twice");
    assertTrue(task.train().containsAll(order));
    assertNotEquals(order, task.trainOrder(2), "the seed shuffles");
  }

  @Test
  void heldOutGamesAreNeverTrainedOn() {
    TicTacToeRl task = new TicTacToeRl(1, 500, 200);
    assertEquals(200, task.val().size());
    HashSet<Long> trainSeeds = new HashSet<>();
    task.train().forEach(s -> trainSeeds.add(s.seed()));
    assertTrue(task.val().stream().noneMatch(s -> trainSeeds.contains(s.seed())));
    long opens = task.val().stream().filter(TicTacToeScenario::agentStarts).count();
    assertTrue(opens > 70 && opens < 130, "both sides in the held-out games: " + opens);
  }
}
