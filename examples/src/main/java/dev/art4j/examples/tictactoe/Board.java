package dev.art4j.examples.tictactoe;

import java.util.ArrayList;
import java.util.List;

/**
 * A 3x3 tic-tac-toe board: {@code X} is the agent, {@code O} the opponent, {@link #EMPTY} an
 * empty cell (rendered as its coordinates, see {@link #render}). Rows and columns are numbered 1
 * to 3 as the model sees them.
 */
final class Board {

  static final char EMPTY = '.';
  private static final int[][] LINES = {
      {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

  private final char[] cells = new char[9];

  /** How an empty cell shows on the board when labelled: its coordinates, {@code (2,3)}. */
  static String label(int row, int col) {
    return "(" + row + "," + col + ")";
  }

  Board() {
    java.util.Arrays.fill(cells, EMPTY);
  }

  char at(int row, int col) {
    return cells[index(row, col)];
  }

  boolean isFree(int row, int col) {
    return at(row, col) == EMPTY;
  }

  void place(int row, int col, char mark) {
    if (!isFree(row, col)) {
      throw new IllegalStateException("cell " + row + " " + col + " is taken");
    }
    cells[index(row, col)] = mark;
  }

  /** The free cells as {row, col} pairs, in reading order. */
  List<int[]> freeCells() {
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      if (cells[i] == EMPTY) {
        out.add(new int[] {i / 3 + 1, i % 3 + 1});
      }
    }
    return out;
  }

  /** {@code X} or {@code O} if that mark has three in a line, else {@link #EMPTY}. */
  char winner() {
    for (int[] l : LINES) {
      char c = cells[l[0]];
      if (c != EMPTY && c == cells[l[1]] && c == cells[l[2]]) {
        return c;
      }
    }
    return EMPTY;
  }

  /**
   * Whether {@code mark} on the free cell ({@code row}, {@code col}) would complete one of its
   * lines: for X a win on offer, for O a threat that X must block.
   */
  boolean completesLine(int row, int col, char mark) {
    int at = index(row, col);
    if (cells[at] != EMPTY) {
      return false;
    }
    for (int[] l : LINES) {
      if (l[0] == at || l[1] == at || l[2] == at) {
        int own = 0;
        for (int i : l) {
          own += cells[i] == mark ? 1 : 0;
        }
        if (own == 2) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether any free cell completes a line of {@code mark}. */
  boolean canComplete(char mark) {
    for (int i = 0; i < 9; i++) {
      if (completesLine(i / 3 + 1, i % 3 + 1, mark)) {
        return true;
      }
    }
    return false;
  }

  boolean isFull() {
    for (char c : cells) {
      if (c == EMPTY) {
        return false;
      }
    }
    return true;
  }

  /**
   * Three lines of three cells separated by spaces, an empty cell shown as its coordinates, e.g.
   * {@code "X (1,2) O\n(2,1) X (2,3)\n(3,1) (3,2) (3,3)"}: the free cells are the moves on offer.
   */
  String render() {
    StringBuilder sb = new StringBuilder(17);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 3; c++) {
        char v = cells[r * 3 + c];
        if (v == EMPTY) {
          sb.append(label(r + 1, c + 1));
        } else {
          sb.append(v);
        }
        if (c < 2) {
          sb.append(' ');
        }
      }
      if (r < 2) {
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  private static int index(int row, int col) {
    if (row < 1 || row > 3 || col < 1 || col > 3) {
      throw new IllegalArgumentException("row and col must be 1 to 3, got " + row + " " + col);
    }
    return (row - 1) * 3 + (col - 1);
  }
}
