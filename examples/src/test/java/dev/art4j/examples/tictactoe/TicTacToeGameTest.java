package dev.art4j.examples.tictactoe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.trajectory.Trajectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Game rules: lines, legal and illegal moves, the random opponent, rewards. */
class TicTacToeGameTest {

  @Test
  void boardFindsEveryLineAndNothingElse() {
    int[][][] lines = {{{1, 1}, {1, 2}, {1, 3}}, {{2, 1}, {2, 2}, {2, 3}}, {{3, 1}, {3, 2}, {3, 3}},
        {{1, 1}, {2, 1}, {3, 1}}, {{1, 2}, {2, 2}, {3, 2}}, {{1, 3}, {2, 3}, {3, 3}},
        {{1, 1}, {2, 2}, {3, 3}}, {{1, 3}, {2, 2}, {3, 1}}};
    for (int[][] line : lines) {
      Board b = new Board();
      b.place(line[0][0], line[0][1], 'O');
      b.place(line[1][0], line[1][1], 'O');
      assertEquals(Board.EMPTY, b.winner(), "two in a line is no win");
      b.place(line[2][0], line[2][1], 'O');
      assertEquals('O', b.winner());
    }
    Board full = new Board();
    String draw = "XOXXOOOXX";
    for (int i = 0; i < 9; i++) {
      full.place(i / 3 + 1, i % 3 + 1, draw.charAt(i));
    }
    assertEquals(Board.EMPTY, full.winner());
    assertTrue(full.isFull());
    assertEquals("X O X\nX O O\nO X X", full.render());
  }

  @Test
  void illegalMovesLoseAndSayWhy() {
    TicTacToeScenario s = new TicTacToeScenario("t", 5, true);
    TicTacToeGame taken = new TicTacToeGame(s);
    ToolResult first = taken.call("move", "{\"row\": 2, \"col\": 2}");
    assertFalse(first.isError());
    ToolResult again = taken.call("move", "{\"row\": 2, \"col\": 2}");
    assertTrue(again.isError());
    assertTrue(again.text().startsWith("Illegal move: Cell 2 2 is already taken by X."), again.text());
    assertTrue(again.text().endsWith("Game over: you lose."));
    assertEquals(Outcome.ILLEGAL_MOVE, taken.outcome());
    ToolResult after = taken.call("move", "{\"row\": 1, \"col\": 1}");
    assertTrue(after.isError() && after.text().contains("The game is over"), after.text());

    String[][] bad = {{"move", "{\"row\": 4, \"col\": 1}", "Row and col must be 1 to 3; you sent row 4, col 1."},
        {"move", "{\"row\": 1}", "Argument `col` is missing."},
        {"move", "{\"row\": 1.5, \"col\": 1}", "Argument `row` must be a whole number 1 to 3, got 1.5."},
        {"move", "{row: 1", "The arguments are not valid JSON"},
        {"place", "{\"row\": 1, \"col\": 1}", "Unknown tool `place`; the only tool is `move`."}};
    for (String[] b : bad) {
      TicTacToeGame g = new TicTacToeGame(s);
      ToolResult r = g.call(b[0], b[1]);
      assertTrue(r.isError());
      assertTrue(r.text().contains(b[2]), r.text());
      assertEquals(Outcome.ILLEGAL_MOVE, g.outcome());
      assertEquals(-0.5, g.score(Trajectory.ofMessages(List.of())).reward(), "an illegal move is worse than a loss");
    }
    TicTacToeGame lenient = new TicTacToeGame(s);
    assertFalse(lenient.call("move", "{\"row\": \"3\", \"col\": 3.0}").isError(), "\"3\" and 3.0 are whole numbers");
  }

  @Test
  void randomGamesFollowTheRulesAndScore() {
    Random agent = new Random(1);
    int[] outcomes = new int[Outcome.values().length];
    for (TicTacToeScenario s : TicTacToeScenario.draw(3, 400, "g")) {
      TicTacToeGame g = new TicTacToeGame(s);
      assertTrue(g.openingMessage().contains(s.agentStarts() ? "Your move." : "Opponent played "));
      int moves = 0;
      while (!g.outcome().isOver()) {
        List<int[]> free = TicTacToeStarter.freeCells(g.board());
        int x = count(g.board(), 'X');
        int o = count(g.board(), 'O');
        assertEquals(s.agentStarts() ? x : x + 1, o, "the opponent answered every move:\n" + g.board());
        int[] c = free.get(agent.nextInt(free.size()));
        ToolResult r = g.call("move", "{\"row\": " + c[0] + ", \"col\": " + c[1] + "}");
        assertFalse(r.isError());
        assertTrue(r.text().startsWith("You played " + c[0] + " " + c[1] + "."));
        moves++;
      }
      assertEquals(moves, g.agentMoves());
      outcomes[g.outcome().ordinal()]++;
      Trajectory t = g.score(Trajectory.ofMessages(List.of(Message.user("x"))));
      double expected = switch (g.outcome()) {
        case WIN -> 1.0;
        case DRAW -> 0.5;
        case LOSS -> 0.0;
        default -> throw new AssertionError(g.outcome());
      };
      assertEquals(expected, t.reward());
      assertEquals(g.outcome() == Outcome.WIN || g.outcome() == Outcome.DRAW ? 1.0 : 0.0, t.metrics().get("win_or_draw"));
    }
    assertEquals(0, outcomes[Outcome.ILLEGAL_MOVE.ordinal()]);
    assertTrue(outcomes[Outcome.WIN.ordinal()] > 100 && outcomes[Outcome.LOSS.ordinal()] > 50
        && outcomes[Outcome.DRAW.ordinal()] > 10, "random play wins, loses and draws: " + java.util.Arrays.toString(outcomes));
  }

  @Test
  void rewardOrdersWinDrawLossAndRuleBreaks() {
    assertTrue(Outcome.WIN.reward() > Outcome.DRAW.reward() && Outcome.DRAW.reward() > Outcome.LOSS.reward()
        && Outcome.LOSS.reward() > Outcome.ILLEGAL_MOVE.reward());
    TicTacToeGame quit = new TicTacToeGame(new TicTacToeScenario("q", 1, true));
    quit.call("move", "{\"row\": 1, \"col\": 1}");
    Trajectory stopped = quit.score(Trajectory.ofMessages(List.of()));
    assertEquals(Outcome.ILLEGAL_MOVE.reward(), stopped.reward(), "stopping mid-game forfeits like a rule break");
    assertEquals(1.0, stopped.metrics().get("unfinished"));
    assertEquals(0.0, stopped.metrics().get("success"));
  }

  @Test
  void aCallRefusedBeforeReachingTheGameIsIllegal() {
    // the agent loop refuses a call with a missing argument or an unknown tool itself (schema check)
    // and counts it in tool_errors; the game never saw it, yet it is a rule break
    TicTacToeScenario s = new TicTacToeScenario("r", 3, true);
    TicTacToeGame g = new TicTacToeGame(s);
    Random agent = new Random(2);
    while (!g.outcome().isOver()) {
      List<int[]> free = TicTacToeStarter.freeCells(g.board());
      int[] c = free.get(agent.nextInt(free.size()));
      g.call("move", "{\"row\": " + c[0] + ", \"col\": " + c[1] + "}");
    }
    g.call("move", "{\"row\": 1, \"col\": 1}"); // after the end: refused by the game, not a rule break
    Trajectory clean = g.score(Trajectory.ofMessages(List.of()).withMetric("tool_errors", 1));
    assertEquals(g.outcome().reward(), clean.reward(), "the game's own 'game is over' reply changes nothing");
    Trajectory refused = g.score(Trajectory.ofMessages(List.of()).withMetric("tool_errors", 2));
    assertEquals(Outcome.ILLEGAL_MOVE.reward(), refused.reward());
    assertEquals(1.0, refused.metrics().get("illegal"));
    assertEquals("illegal_move", refused.metadata().get("outcome"));
  }

  @Test
  void movesAreReportedInTheStartersMoveTokens() {
    List<String> tokens = TicTacToeStarter.fusedTokens();
    assertEquals(36, tokens.size(), "per cell: the call, 'You played', 'Opponent played', the free-cell label");
    assertEquals(36, new java.util.HashSet<>(tokens).size());
    TicTacToeGame g = new TicTacToeGame(new TicTacToeScenario("m", 8, false));
    String opening = g.openingMessage();
    assertTrue(tokens.stream().anyMatch(t -> opening.contains(t + "\n")), opening);
    String reply = g.call("move", TicTacToeStarter.arguments(2, 2).replace("2, ", "2,")).text();
    assertTrue(reply.startsWith("You played 2 2. Opponent played ") && tokens.contains(reply.substring(16, 36)), reply);
    assertTrue(tokens.contains(TicTacToeStarter.callText(3, 1)));
    String board = g.board();
    assertEquals(9, board.split("[ \n]").length);
    for (String cell : board.split("[ \n]")) {
      assertTrue(cell.equals("X") || cell.equals("O") || tokens.contains(cell), "a mark or a free-cell label: " + cell);
    }
    assertTrue(board.contains("X") && !board.contains("(2,2)") && board.startsWith("(1,1)") == !board.startsWith("O"), board);
  }

  @Test
  void opponentIsDeterministicPerScenario() {
    TicTacToeScenario s = new TicTacToeScenario("t", 42, false);
    List<String> a = play(s);
    assertEquals(a, play(s), "same seed, same moves, same replies");
    assertNotEquals(a, play(new TicTacToeScenario("t", 43, false)));
    assertEquals(TicTacToeScenario.draw(9, 5, "v"), TicTacToeScenario.draw(9, 5, "v"));
  }

  private static List<String> play(TicTacToeScenario s) {
    TicTacToeGame g = new TicTacToeGame(s);
    List<String> out = new ArrayList<>(List.of(g.openingMessage()));
    while (!g.outcome().isOver()) {
      int[] c = TicTacToeStarter.freeCells(g.board()).get(0);
      out.add(g.call("move", "{\"row\": " + c[0] + ", \"col\": " + c[1] + "}").text());
    }
    return out;
  }

  private static int count(String board, char mark) {
    return (int) board.chars().filter(ch -> ch == mark).count();
  }
}
