package dev.art4j.examples.tictactoe;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.examples.starter.StarterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

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
        extra, new StarterSpec.Shape(128, 4, 4, 2, 384, 1024), demonstrations, sftSteps, fusedTokens(), PHASE_ENDS);
  }

  /**
   * The 27 move tokens, cell by cell in reading order: the agent's call
   * {@code <tool_call>{"name": "move", "arguments": {"row": 2, "col": 3}}</tool_call>}, the tool
   * result's {@code You played 2 3.} and {@code Opponent played 2 3.}.
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
