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
 */
public final class TicTacToeStarter {

  /** The agent's last message once the game is over. */
  public static final String CLOSING = "Good game.";

  private TicTacToeStarter() {}

  public static StarterSpec spec(long seed) {
    List<String> extra = List.of("Illegal move: Cell 1 1 is already taken by O. You lose.",
        "Illegal move: Row and col must be 1 to 3; you sent row 4, col 0.", "Game over: draw.",
        "Game over: you win.", "Game over: you lose.", "Unknown tool; the only tool is move.",
        "Argument `row` is missing.", "The game is over (you win). Do not call move again.");
    return new StarterSpec("tictactoe", seed, List.of(TicTacToeGame.moveSpec()), TicTacToeStarter::demonstration,
        extra, new StarterSpec.Shape(128, 4, 4, 2, 384, 1024), 3000, 300);
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
      String args = "{\"row\": " + cell[0] + ", \"col\": " + cell[1] + "}";
      conversation.add(Message.assistant("", List.of(new ToolCall(id, TicTacToeGame.MOVE, args))));
      ToolResult r = game.call(TicTacToeGame.MOVE, args);
      conversation.add(Message.tool(id, TicTacToeGame.MOVE, r.text()));
    }
    conversation.add(Message.assistant(CLOSING));
    return conversation;
  }

  /** Free cells of a rendered board ({@code "X . O\n..."}). */
  static List<int[]> freeCells(String rendered) {
    List<int[]> out = new ArrayList<>();
    String[] rows = rendered.split("\n");
    for (int r = 0; r < 3; r++) {
      String[] cells = rows[r].split(" ");
      for (int c = 0; c < 3; c++) {
        if (cells[c].charAt(0) == Board.EMPTY) {
          out.add(new int[] {r + 1, c + 1});
        }
      }
    }
    return out;
  }
}
