package dev.art4j.examples.tictactoe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.Trajectory;
import java.util.List;
import java.util.Random;

/**
 * One game of tic-tac-toe as a {@link Toolset}: the agent plays X with the tool
 * {@code move {"row": 1-3, "col": 1-3}}; after each legal move the opponent (O) answers with a
 * random legal move drawn from the scenario's seed, and the tool result shows both moves and the
 * board. An illegal move (a taken cell, a row or column outside 1-3, missing or non-whole
 * arguments, an unknown tool) ends the game as a loss, and the result says exactly why.
 *
 * <p>One instance per rollout; not thread-safe.
 */
public final class TicTacToeGame implements Toolset {

  /** The tool's name. */
  public static final String MOVE = "move";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final TicTacToeScenario scenario;
  private final Board board = new Board();
  private final Random opponent;
  private Outcome outcome = Outcome.ONGOING;
  private String openingMove = null;
  private int agentMoves;
  private int errorsReturned;
  private int winChances;
  private int winsTaken;
  private int blocksNeeded;
  private int blocksMade;

  public TicTacToeGame(TicTacToeScenario scenario) {
    this.scenario = scenario;
    this.opponent = new Random(scenario.seed());
    if (!scenario.agentStarts()) {
      openingMove = opponentMove();
    }
  }

  /** The tool spec of {@code move}. */
  public static ToolSpec moveSpec() {
    ObjectNode schema = JSON.createObjectNode().put("type", "object");
    ObjectNode props = schema.putObject("properties");
    props.putObject("row").put("type", "integer").put("minimum", 1).put("maximum", 3).put("description", "row 1 to 3, top to bottom");
    props.putObject("col").put("type", "integer").put("minimum", 1).put("maximum", 3).put("description", "column 1 to 3, left to right");
    schema.putArray("required").add("row").add("col");
    return new ToolSpec(MOVE, "Put your X on the empty cell at row, col.", schema);
  }

  @Override
  public List<ToolSpec> tools() {
    return List.of(moveSpec());
  }

  /** The user's first message: the rules in one line, the opponent's opening move if any, the board. */
  public String openingMessage() {
    return "Tic-tac-toe. You are X. Call move with row and col (1-3).\n"
        + (openingMove == null ? "" : openingMove + "\n")
        + board.render() + "\nYour move.";
  }

  @Override
  public ToolResult call(String name, String argumentsJson) {
    if (outcome.isOver()) {
      errorsReturned++;
      return ToolResult.error("The game is over (" + describe(outcome) + "). Do not call " + MOVE + " again.");
    }
    if (!MOVE.equals(name)) {
      return illegal("Unknown tool `" + name + "`; the only tool is `" + MOVE + "`.");
    }
    int row;
    int col;
    try {
      JsonNode args = JSON.readTree(argumentsJson);
      row = whole(args, "row");
      col = whole(args, "col");
    } catch (IllegalArgumentException e) {
      return illegal(e.getMessage());
    } catch (java.io.IOException e) {
      return illegal("The arguments are not valid JSON: " + argumentsJson);
    }
    if (row < 1 || row > 3 || col < 1 || col > 3) {
      return illegal("Row and col must be 1 to 3; you sent row " + row + ", col " + col + ".");
    }
    if (!board.isFree(row, col)) {
      return illegal("Cell " + row + " " + col + " is already taken by " + board.at(row, col) + ".");
    }
    countTactics(row, col);
    board.place(row, col, 'X');
    agentMoves++;
    StringBuilder text = new StringBuilder(playedText("You", row, col));
    if (board.winner() == 'X') {
      outcome = Outcome.WIN;
    } else if (board.isFull()) {
      outcome = Outcome.DRAW;
    } else {
      text.append(' ').append(opponentMove());
      if (board.winner() == 'O') {
        outcome = Outcome.LOSS;
      } else if (board.isFull()) {
        outcome = Outcome.DRAW;
      }
    }
    text.append('\n').append(board.render()).append('\n');
    text.append(outcome.isOver() ? "Game over: " + describe(outcome) + "." : "Your move.");
    return ToolResult.ok(text.toString());
  }

  /**
   * Before a legal move: was a win on offer, and taken? Else, did the opponent threaten a line,
   * and was it blocked? What RL teaches shows here before it shows in the outcome.
   */
  private void countTactics(int row, int col) {
    if (board.canComplete('X')) {
      winChances++;
      winsTaken += board.completesLine(row, col, 'X') ? 1 : 0;
    } else if (board.canComplete('O')) {
      blocksNeeded++;
      blocksMade += board.completesLine(row, col, 'O') ? 1 : 0;
    }
  }

  /** The state of the game. */
  public Outcome outcome() {
    return outcome;
  }

  /** How many legal moves the agent made. */
  public int agentMoves() {
    return agentMoves;
  }

  /**
   * The trajectory with its reward ({@link Outcome#reward()}: win 1, draw 0.5, loss 0, illegal
   * move or unfinished game -0.5) and the metrics {@code win}, {@code draw}, {@code loss},
   * {@code illegal}, {@code unfinished}, {@code win_or_draw} and {@code success} (= win_or_draw),
   * and the tactics counts of the agent's legal moves: {@code win_chances} (moves where a cell
   * completed its own line), {@code wins_taken} (of those, the ones that took it),
   * {@code blocks_needed} (no win on offer, but the opponent threatened a line) and
   * {@code blocks_made}. Summed over games, {@code wins_taken / win_chances} and
   * {@code blocks_made / blocks_needed} are the rates.
   *
   * <p>A call the agent loop refused before it reached the game (an unknown tool name, a missing
   * or mistyped argument: the trajectory's {@code tool_errors} counts more errors than this game
   * returned) is an illegal move too, whatever happened after it.
   */
  public Trajectory score(Trajectory t) {
    Outcome end = outcome;
    if (t.metrics().getOrDefault("tool_errors", 0.0) > errorsReturned) {
      end = Outcome.ILLEGAL_MOVE;
    }
    boolean winOrDraw = end == Outcome.WIN || end == Outcome.DRAW;
    return t.withReward(end.reward())
        .withMetric("win", end == Outcome.WIN ? 1 : 0)
        .withMetric("draw", end == Outcome.DRAW ? 1 : 0)
        .withMetric("loss", end == Outcome.LOSS ? 1 : 0)
        .withMetric("illegal", end == Outcome.ILLEGAL_MOVE ? 1 : 0)
        .withMetric("unfinished", end == Outcome.ONGOING ? 1 : 0)
        .withMetric("win_or_draw", winOrDraw ? 1 : 0)
        .withMetric("success", winOrDraw ? 1 : 0)
        .withMetric("win_chances", winChances)
        .withMetric("wins_taken", winsTaken)
        .withMetric("blocks_needed", blocksNeeded)
        .withMetric("blocks_made", blocksMade)
        .withMetadata("outcome", end.name().toLowerCase(java.util.Locale.ROOT))
        .withMetadata("final_board", board.render());
  }

  /** The board as three lines. */
  public String board() {
    return board.render();
  }

  private ToolResult illegal(String why) {
    outcome = Outcome.ILLEGAL_MOVE;
    errorsReturned++;
    return ToolResult.error("Illegal move: " + why + " You lose.\n" + board.render() + "\nGame over: you lose.");
  }

  /** The opponent's random legal move, placed; how the game reports it. */
  private String opponentMove() {
    List<int[]> free = board.freeCells();
    int[] cell = free.get(opponent.nextInt(free.size()));
    board.place(cell[0], cell[1], 'O');
    return playedText("Opponent", cell[0], cell[1]);
  }

  /** How a move is reported, {@code You played 2 3.} (one token each in the starter's tokenizer). */
  static String playedText(String who, int row, int col) {
    return who + " played " + row + " " + col + ".";
  }

  private static int whole(JsonNode args, String field) {
    JsonNode v = args == null ? null : args.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("Argument `" + field + "` is missing.");
    }
    if (v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
      return v.asInt();
    }
    if (v.isTextual() && v.asText().strip().matches("-?\\d+")) {
      return Integer.parseInt(v.asText().strip());
    }
    throw new IllegalArgumentException("Argument `" + field + "` must be a whole number 1 to 3, got " + v + ".");
  }

  private static String describe(Outcome o) {
    return switch (o) {
      case WIN -> "you win";
      case DRAW -> "draw";
      case LOSS, ILLEGAL_MOVE -> "you lose";
      case ONGOING -> "ongoing";
    };
  }
}
