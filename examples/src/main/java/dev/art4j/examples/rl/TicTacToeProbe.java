package dev.art4j.examples.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.examples.starter.Starter;
import dev.art4j.examples.tictactoe.TicTacToeGame;
import dev.art4j.examples.tictactoe.TicTacToeStarter;
import dev.art4j.rollout.agent.ChatFormat;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Diagnostic: how well a tic-tac-toe starter knows the board. Over held-out random games (fresh
 * demonstrations of another seed), at every agent move, a forward pass gives the probability mass
 * on the nine move tokens, on the legal ones, and whether the greedy token is a legal move.
 * Args: starter folder, games (default 100).
 */
final class TicTacToeProbe {
  public static void main(String[] args) throws Exception {
    System.setProperty("ai.djl.pytorch.num_threads", "1");
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Path model = Path.of(args[0]);
    int games = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    List<List<Message>> demos = Starter.demonstrations(TicTacToeStarter.spec(12345), games);
    try (Policy policy = Policy.load(model)) {
      Tokenizer tok = policy.tokenizer().orElseThrow();
      ChatFormat format = ChatFormat.load(model);
      int[] cell = new int[9];
      for (int r = 1; r <= 3; r++) {
        for (int c = 1; c <= 3; c++) {
          cell[(r - 1) * 3 + c - 1] = tok.tokenToId(TicTacToeStarter.callText(r, c));
        }
      }
      String sample = format.template().render(demos.get(0), List.of(TicTacToeGame.moveSpec()), false, Map.of());
      StringBuilder pieces = new StringBuilder();
      for (int id : tok.encode(sample)) {
        pieces.append('[').append(tok.decode(new int[] {id})).append(']');
      }
      System.out.println("tokens of one game: " + pieces);
      double[] moveMass = new double[6];
      double[] legalMass = new double[6];
      int[] greedyLegal = new int[6];
      int[] n = new int[6];
      try (NDManager m = policy.manager().newSubManager()) {
        for (List<Message> d : demos) {
          int move = 0;
          for (int k = 0; k < d.size(); k++) {
            Message msg = d.get(k);
            if (msg.role() != Role.ASSISTANT || msg.toolCalls().isEmpty()) {
              continue;
            }
            String prompt = format.template().render(d.subList(0, k), List.of(TicTacToeGame.moveSpec()), true, Map.of());
            int[] ids = tok.encode(prompt);
            long[] l = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
              l[i] = ids[i];
            }
            float[] p;
            try (NDManager one = m.newSubManager()) { // each forward's arrays freed at once
              p = policy.model().forward(one.create(l).reshape(1, l.length), null).get("0, -1").softmax(0).toFloatArray();
            }
            boolean[] taken = taken(d.subList(0, k));
            int best = 0;
            double mass = 0;
            double legal = 0;
            for (int i = 0; i < 9; i++) {
              mass += p[cell[i]];
              if (!taken[i]) {
                legal += p[cell[i]];
              }
            }
            for (int i = 0; i < p.length; i++) {
              if (p[i] > p[best]) {
                best = i;
              }
            }
            int bi = -1;
            for (int i = 0; i < 9; i++) {
              if (cell[i] == best) {
                bi = i;
              }
            }
            int at = Math.min(move, 5);
            if (n[at] < 2) {
              Integer[] order = new Integer[p.length];
              for (int i = 0; i < p.length; i++) {
                order[i] = i;
              }
              java.util.Arrays.sort(order, (x, y) -> Float.compare(p[y], p[x]));
              StringBuilder top = new StringBuilder("  top at move " + (at + 1) + ":");
              for (int i = 0; i < 6; i++) {
                top.append(String.format(Locale.ROOT, " [%s] %.3f", tok.decode(new int[] {order[i]}), p[order[i]]));
              }
              System.out.println(top);
            }
            moveMass[at] += mass;
            legalMass[at] += legal;
            greedyLegal[at] += bi >= 0 && !taken[bi] ? 1 : 0;
            n[at]++;
            move++;
          }
        }
      }
      for (int i = 0; i < 6; i++) {
        if (n[i] > 0) {
          System.out.printf(Locale.ROOT, "agent move %d (n=%d): P(move token) %.3f  P(legal) %.3f  greedy legal %.2f%n",
              i + 1, n[i], moveMass[i] / n[i], legalMass[i] / n[i], (double) greedyLegal[i] / n[i]);
        }
      }
    }
  }

  /** Cells taken before the next move: the agent's calls and the opponent's reported moves. */
  static boolean[] taken(List<Message> history) {
    boolean[] t = new boolean[9];
    java.util.regex.Pattern opp = java.util.regex.Pattern.compile("Opponent played (\\d) (\\d)\\.");
    java.util.regex.Pattern arg = java.util.regex.Pattern.compile("\"row\": (\\d), \"col\": (\\d)");
    for (Message m : history) {
      java.util.regex.Matcher o = opp.matcher(m.content() == null ? "" : m.content());
      while (o.find()) {
        t[(Integer.parseInt(o.group(1)) - 1) * 3 + Integer.parseInt(o.group(2)) - 1] = true;
      }
      for (var c : m.toolCalls()) {
        java.util.regex.Matcher a = arg.matcher(c.argumentsJson());
        if (a.find()) {
          t[(Integer.parseInt(a.group(1)) - 1) * 3 + Integer.parseInt(a.group(2)) - 1] = true;
        }
      }
    }
    return t;
  }
}
