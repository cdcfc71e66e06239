package dev.art4j.core.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Finds the tool names closest to a misspelt one. Closeness is the Levenshtein distance
 * (insertions, deletions, substitutions each cost 1) between lower-cased names divided by the
 * longer length, {@code d(a, b) / max(|a|, |b|)}; a name counts as close at 0.65 or less
 * ({@code devide} to {@code division}: 5 / 8), and one that contains the other
 * ({@code mod}, {@code modulo}) counts as 0.3. Only names within 0.1 of the closest one are offered.
 */
public final class ClosestNames {

  private ClosestNames() {}

  /** Up to {@code limit} close names, nearest first. */
  public static List<String> closest(String wanted, List<String> names, int limit) {
    String w = wanted.toLowerCase(Locale.ROOT);
    record Scored(String name, double score) {}
    List<Scored> scored = new ArrayList<>();
    for (String name : names) {
      String n = name.toLowerCase(Locale.ROOT);
      double score = (double) distance(w, n) / Math.max(1, Math.max(w.length(), n.length()));
      if (w.length() >= 3 && n.length() >= 3 && (n.contains(w) || w.contains(n))) {
        score = Math.min(score, 0.3);
      }
      if (score <= 0.65) {
        scored.add(new Scored(name, score));
      }
    }
    scored.sort(Comparator.comparingDouble(Scored::score).thenComparing(Scored::name));
    // only names about as close as the best one: `multiplication` suggests `multiply`, not `division` too
    double cutoff = scored.isEmpty() ? 0 : scored.get(0).score() + 0.1;
    return scored.stream().filter(s -> s.score() <= cutoff).limit(limit).map(Scored::name).toList();
  }

  /** Levenshtein distance, two rows of the DP table. */
  public static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitution, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
