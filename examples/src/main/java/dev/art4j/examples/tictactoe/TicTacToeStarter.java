package dev.art4j.examples.tictactoe;

import ai.djl.ndarray.NDManager;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.examples.starter.StarterSpec;
import dev.art4j.examples.starter.WarmStartGate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The tic-tac-toe task's embedded starter. Its demonstrations are whole games in which the
 * agent plays <em>random legal</em> moves through the {@code move} tool and says
 * {@value #CLOSING} when the game is over: the warm-started model knows the protocol and the
 * board but has no strategy; RL has to find one from the game results.
 *
 * <p>The tokenizer has one added token per cell for each way a move appears in the conversation
 * (see {@link #fusedTokens}): the agent's whole call, {@code You played 2 3.} and
 * {@code Opponent played 2 3.}. A move is then a single-token choice among nine, and whether a
 * cell is taken is whether one of its three tokens occurs anywhere before (cells never free up):
 * a bag-of-tokens fact that a tiny model learns from few demonstrations, where reading the
 * rendered grid takes position-exact attention (measured, examples/README.md).
 *
 * <p>Whether a given build learns that fact within its planned steps is still a matter of chance
 * (of three seeds of one recipe, one ended with 85% of its greedy games lost to illegal moves).
 * Two things make it dependable: a cell's four tokens start related in the embedding and the
 * output head ({@link #cellFamilies}), and a {@link WarmStartGate} keeps the warm start going
 * until the greedy move is legal at {@value #LEGAL_TARGET} of held-out agent moves.
 */
public final class TicTacToeStarter {

  /** The agent's last message once the game is over. */
  public static final String CLOSING = "Good game.";

  /**
   * The warm start's learning-rate phases: 20% of the steps at 2e-3, 15% at 1e-3, the rest at
   * 3e-4. The move targets are random (any legal cell), so the loss is noisy; at 2e-3 it stayed at
   * the no-board-knowledge level (~0.75-0.8, 300 steps measured), and it falls only at 3e-4.
   */
  static final List<Double> PHASE_ENDS = List.of(0.2, 0.35, 1.0);

  private TicTacToeStarter() {}

  public static StarterSpec spec(long seed) {
    return spec(seed, 2000, 300);
  }

  /** The spec with another warm-start length (measurements). */
  public static StarterSpec spec(long seed, int demonstrations, int sftSteps) {
    List<String> extra = List.of("Illegal move: Cell 1 1 is already taken by O. You lose.",
        "Illegal move: Row and col must be 1 to 3; you sent row 4, col 0.", "Game over: draw.",
        "Game over: you win.", "Game over: you lose.", "Unknown tool; the only tool is move.",
        "Argument `row` is missing.", "The game is over (you win). Do not call move again.");
    return new StarterSpec("tictactoe", seed, List.of(TicTacToeGame.moveSpec()), TicTacToeStarter::demonstration,
        extra, new StarterSpec.Shape(128, 4, 4, 2, 384, 1024), demonstrations, sftSteps, fusedTokens(), PHASE_ENDS,
        cellFamilies(), new WarmStartGate("greedy_legal_move_rate", LEGAL_TARGET, 50, Math.max(MAX_SFT_STEPS, sftSteps), 64,
            TicTacToeStarter::greedyLegalMoveRate));
  }

  /**
   * The warm start goes on past its 300 planned steps until the greedy move is legal at this share
   * of held-out agent moves. Measured (examples/README.md): 300 steps of one recipe left one seed
   * at 0.91, and RL from such a starter gained little; at 0.98 RL gained 20-27 points on every
   * seed tried.
   */
  static final double LEGAL_TARGET = 0.98;
  /** The warm start's cap, planned steps included (~10 minutes of SFT on 2 cores). */
  static final int MAX_SFT_STEPS = 600;

  /**
   * At every agent move of the held-out games (teacher-forced, one forward per game): is the
   * model's most likely next token a move to a free cell? A cell is taken once any of its move
   * tokens (call, {@code You played}, {@code Opponent played}) has occurred.
   */
  static double greedyLegalMoveRate(Policy policy, List<int[]> games) {
    MoveTokens moves = new MoveTokens(policy.tokenizer().orElseThrow());
    int[] legalAndMoves = new int[2];
    for (int[] ids : games) {
      long[] greedy;
      try (NDManager m = policy.manager().newSubManager()) {
        long[] in = java.util.Arrays.stream(ids).asLongStream().toArray();
        greedy = policy.model().forward(m.create(in).reshape(1, in.length), policy.adapter()).argMax(2).toLongArray(); // (1, len)
      }
      moves.countLegal(ids, greedy, legalAndMoves);
    }
    return legalAndMoves[1] == 0 ? 0 : (double) legalAndMoves[0] / legalAndMoves[1];
  }

  /** The ids of the 27 move tokens of a starter's tokenizer, by cell. */
  static final class MoveTokens {
    private final Map<Integer, Integer> cellOf = new HashMap<>();
    private final Set<Integer> calls = new HashSet<>();

    MoveTokens(Tokenizer tok) {
      List<String> fused = fusedTokens();
      for (int cell = 0; cell < 9; cell++) {
        for (int k = 0; k < 3; k++) {
          cellOf.put(tok.tokenToId(fused.get(4 * cell + k)), cell);
        }
        calls.add(tok.tokenToId(fused.get(4 * cell)));
      }
    }

    /**
     * For every agent call in {@code ids}, whether {@code greedy[i - 1]} (the token predicted
     * there) is a call on a free cell: adds to {@code legalAndMoves[0]} (legal) and
     * {@code legalAndMoves[1]} (calls). A cell is taken once any of its move tokens occurred.
     */
    void countLegal(int[] ids, long[] greedy, int[] legalAndMoves) {
      boolean[] taken = new boolean[9];
      for (int i = 1; i < ids.length; i++) {
        if (calls.contains(ids[i])) {
          int predicted = (int) greedy[i - 1];
          legalAndMoves[0] += calls.contains(predicted) && !taken[cellOf.get(predicted)] ? 1 : 0;
          legalAndMoves[1]++;
        }
        Integer cell = cellOf.get(ids[i]);
        if (cell != null) {
          taken[cell] = true;
        }
      }
    }
  }

  /**
   * The 27 move tokens and 9 labels, cell by cell in reading order: the agent's call
   * {@code <tool_call>{"name": "move", "arguments": {"row": 2, "col": 3}}</tool_call>}, the tool
   * result's {@code You played 2 3.} and {@code Opponent played 2 3.}, the free-cell label {@code (2,3)}.
   */
  public static List<String> fusedTokens() {
    List<String> out = new ArrayList<>();
    for (int r = 1; r <= 3; r++) {
      for (int c = 1; c <= 3; c++) {
        out.add(callText(r, c));
        out.add(TicTacToeGame.playedText("You", r, c));
        out.add(TicTacToeGame.playedText("Opponent", r, c));
        out.add(Board.label(r, c));
      }
    }
    return out;
  }

  /** Per cell, its four tokens (move, {@code You played}, {@code Opponent played}, label): one family each. */
  static List<List<String>> cellFamilies() {
    List<String> fused = fusedTokens();
    List<List<String>> out = new ArrayList<>();
    for (int cell = 0; cell < 9; cell++) {
      out.add(fused.subList(4 * cell, 4 * cell + 4));
    }
    return out;
  }

  /** The agent's move as the compact chat template renders it. */
  public static String callText(int row, int col) {
    return "<tool_call>{\"name\": \"" + TicTacToeGame.MOVE + "\", \"arguments\": " + arguments(row, col) + "}</tool_call>";
  }

  /** The call's arguments, {@code {"row": 2, "col": 3}}. */
  public static String arguments(int row, int col) {
    return "{\"row\": " + row + ", \"col\": " + col + "}";
  }

  /** One game with random legal moves, as a conversation. */
  static List<Message> demonstration(Random rnd) {
    TicTacToeGame game = new TicTacToeGame(new TicTacToeScenario("demo", rnd.nextLong(), rnd.nextBoolean()));
    List<Message> conversation = new ArrayList<>();
    conversation.add(Message.user(game.openingMessage()));
    int call = 0;
    while (!game.outcome().isOver()) {
      // the game's board is private to it: replay the moves on a parsed copy to choose a free cell
      List<int[]> free = freeCells(game.board());
      int[] cell = free.get(rnd.nextInt(free.size()));
      String id = "call_" + call++;
      String args = arguments(cell[0], cell[1]);
      conversation.add(Message.assistant("", List.of(new ToolCall(id, TicTacToeGame.MOVE, args))));
      ToolResult r = game.call(TicTacToeGame.MOVE, args);
      conversation.add(Message.tool(id, TicTacToeGame.MOVE, r.text()));
    }
    conversation.add(Message.assistant(CLOSING));
    return conversation;
  }

  /** Free cells of a rendered board ({@code "X (1,2) O\n..."}). */
  static List<int[]> freeCells(String rendered) {
    List<int[]> out = new ArrayList<>();
    String[] rows = rendered.split("\n");
    for (int r = 0; r < 3; r++) {
      String[] cells = rows[r].split(" ");
      for (int c = 0; c < 3; c++) {
        if (cells[c].startsWith("(")) {
          out.add(new int[] {r + 1, c + 1});
        }
      }
    }
    return out;
  }
}
