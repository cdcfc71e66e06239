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
  void aCellCompletesALineOnlyWithTwoOfTheSameMarkInIt() {
    Board b = new Board();
    b.place(1, 1, 'X');
    b.place(1, 2, 'X');
    b.place(2, 2, 'O');
    b.place(3, 3, 'O');
    assertTrue(b.completesLine(1, 3, 'X'));
    assertFalse(b.completesLine(1, 3, 'O'));
    assertFalse(b.completesLine(2, 1, 'X'), "(2,1) is in no line with both Xs");
    assertFalse(b.completesLine(1, 1, 'O'), "a taken cell completes nothing");
    assertFalse(b.completesLine(3, 1, 'X'), "X at 1 1 alone in that column");
    b.place(1, 3, 'O'); // blocks X's row, opens O's anti-diagonal
    assertFalse(b.canComplete('X'));
    assertTrue(b.completesLine(3, 1, 'O'));
    assertTrue(b.canComplete('O'));
  }

  @Test
  void tacticsCountsSeparateAPlayerWhoTakesWinsAndBlocksFromARandomOne() {
    int[] tactical = new int[4];
    int[] random = new int[4];
    List<TicTacToeScenario> scenarios = TicTacToeScenario.draw(7, 300, "t");
    String[] keys = {"win_chances", "wins_taken", "blocks_needed", "blocks_made"};
    for (boolean plays : new boolean[] {true, false}) {
      Random rnd = new Random(3);
      for (TicTacToeScenario s : scenarios) {
        TicTacToeGame g = new TicTacToeGame(s);
        while (!g.outcome().isOver()) {
          int cell = plays ? tacticalMove(g.board(), rnd) : randomMove(g.board(), rnd);
          g.call("move", "{\"row\": " + (cell / 3 + 1) + ", \"col\": " + (cell % 3 + 1) + "}");
        }
        Trajectory t = g.score(Trajectory.ofMessages(List.of()));
        int[] sums = plays ? tactical : random;
        for (int k = 0; k < 4; k++) {
          sums[k] += t.metrics().get(keys[k]).intValue();
        }
      }
    }
    assertTrue(tactical[0] > 50 && tactical[2] > 50, "chances and threats occur: " + java.util.Arrays.toString(tactical));
    assertEquals(tactical[0], tactical[1], "every win on offer taken");
    assertEquals(tactical[2], tactical[3], "every threat blocked");
    assertTrue(random[1] < 0.7 * random[0] && random[3] < 0.7 * random[2],
        "random moves miss wins and blocks: " + java.util.Arrays.toString(random));
  }

  /** Takes a win if one is on offer, else blocks a threat, else a random free cell (read from the rendered board). */
  private static int tacticalMove(String rendered, Random rnd) {
    char[] b = cells(rendered);
    for (char mark : new char[] {'X', 'O'}) {
      for (int[] l : new int[][] {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}}) {
        int own = 0;
        int free = -1;
        for (int i : l) {
          own += b[i] == mark ? 1 : 0;
          free = b[i] == '.' ? i : free;
        }
        if (own == 2 && free >= 0) {
          return free;
        }
      }
    }
    return randomMove(rendered, rnd);
  }

  private static int randomMove(String rendered, Random rnd) {
    List<int[]> free = TicTacToeStarter.freeCells(rendered);
    int[] c = free.get(rnd.nextInt(free.size()));
    return (c[0] - 1) * 3 + c[1] - 1;
  }

  /** The rendered board as nine marks, {@code .} for a free cell. */
  private static char[] cells(String rendered) {
    char[] out = new char[9];
    String[] parts = rendered.split("\\s+");
    for (int i = 0; i < 9; i++) {
      out[i] = parts[i].startsWith("(") ? '.' : parts[i].charAt(0);
    }
    return out;
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
