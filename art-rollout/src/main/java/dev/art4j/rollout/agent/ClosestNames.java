package dev.art4j.rollout.agent;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Tool names close to a misspelt one, by Levenshtein distance (case-insensitive). */
final class ClosestNames {

  private ClosestNames() {}

  /**
   * The names within {@code max(2, len/3)} edits of {@code wrong}, or containing it (or contained
   * in it), closest first, at most {@code limit}.
   */
  static List<String> of(String wrong, List<String> names, int limit) {
    String w = wrong.toLowerCase(Locale.ROOT);
    int budget = Math.max(2, w.length() / 3);
    return names.stream()
        .filter(n -> {
          String l = n.toLowerCase(Locale.ROOT);
          return distance(w, l) <= budget || (w.length() >= 3 && (l.contains(w) || w.contains(l)));
        })
        .sorted(Comparator.comparingInt((String n) -> distance(w, n.toLowerCase(Locale.ROOT))).thenComparing(n -> n))
        .limit(limit)
        .toList();
  }

  /** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
