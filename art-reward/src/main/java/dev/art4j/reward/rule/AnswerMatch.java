package dev.art4j.reward.rule;

import dev.art4j.core.trajectory.Trajectory;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * 1 when the {@link FinalAnswer final answer} matches the expected one, else 0.
 *
 * <ul>
 *   <li>{@link #exact}: equal text after trimming and collapsing runs of white space
 *       (optionally ignoring case).</li>
 *   <li>{@link #numeric}: the last number in the answer {@code a} and the expected {@code e}
 *       satisfy {@code |a - e| <= max(absTol, relTol * |e|)}. Numbers may carry a sign,
 *       decimals, an exponent and thousands separators ({@code 1,234.5}).</li>
 * </ul>
 *
 * <p>{@link #extracting(Pattern)} narrows the answer first, e.g. to the inside of
 * {@code <answer>...</answer>}: the last match is taken, its group 1 if the pattern has one.
 * The expected answer usually lives in the scenario's metadata: {@link #metadata(String)}.
 * Immutable; the configuring methods return changed copies.
 */
public final class AnswerMatch implements RewardFunction {

  private static final Pattern NUMBER =
      Pattern.compile("[-+]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)?(?:\\.\\d+)?(?:[eE][-+]?\\d+)?");

  private final String name;
  private final boolean numeric;
  private final Function<Trajectory, String> expected;
  private final Pattern extract;
  private final boolean ignoreCase;
  private final double absTol;
  private final double relTol;

  private AnswerMatch(String name, boolean numeric, Function<Trajectory, String> expected, Pattern extract,
      boolean ignoreCase, double absTol, double relTol) {
    this.name = Objects.requireNonNull(name, "name");
    this.numeric = numeric;
    this.expected = Objects.requireNonNull(expected, "expected");
    this.extract = extract;
    this.ignoreCase = ignoreCase;
    if (!(absTol >= 0) || !(relTol >= 0)) {
      throw new IllegalArgumentException("tolerances must be >= 0, got abs " + absTol + ", rel " + relTol);
    }
    this.absTol = absTol;
    this.relTol = relTol;
  }

  /** Exact match against a fixed answer; metric {@code answer_exact}. */
  public static AnswerMatch exact(String expected) {
    Objects.requireNonNull(expected, "expected");
    return exact(t -> expected);
  }

  /** Exact match against a per-trajectory answer; metric {@code answer_exact}. */
  public static AnswerMatch exact(Function<Trajectory, String> expected) {
    return new AnswerMatch("answer_exact", false, expected, null, false, 0, 0);
  }

  /** Numeric match within {@code |a - e| <= absTolerance}; metric {@code answer_numeric}. */
  public static AnswerMatch numeric(double expected, double absTolerance) {
    return numeric(t -> Double.toString(expected), absTolerance);
  }

  /** Numeric match against a per-trajectory answer (parsed as a number); metric {@code answer_numeric}. */
  public static AnswerMatch numeric(Function<Trajectory, String> expected, double absTolerance) {
    return new AnswerMatch("answer_numeric", true, expected, null, false, absTolerance, 0);
  }

  /**
   * The expected answer read from the trajectory's metadata ({@code String.valueOf} of the value).
   * A trajectory without the key is an error that names it: a reward cannot be computed.
   */
  public static Function<Trajectory, String> metadata(String key) {
    return t -> {
      Object v = t.metadata().get(key);
      if (v == null) {
        throw new IllegalArgumentException("trajectory metadata has no '" + key
            + "' (the expected answer); keys present: " + t.metadata().keySet());
      }
      return String.valueOf(v);
    };
  }

  /** Compares after lower-casing both sides (exact match only). */
  public AnswerMatch ignoringCase() {
    return new AnswerMatch(name, numeric, expected, extract, true, absTol, relTol);
  }

  /** Narrows the answer to the last match of {@code pattern} (its group 1 if it has groups). */
  public AnswerMatch extracting(Pattern pattern) {
    return new AnswerMatch(name, numeric, expected, Objects.requireNonNull(pattern), ignoreCase, absTol, relTol);
  }

  /** Also accepts {@code |a - e| <= relTolerance * |e|}. */
  public AnswerMatch relativeTolerance(double relTolerance) {
    return new AnswerMatch(name, numeric, expected, extract, ignoreCase, absTol, relTolerance);
  }

  /** The same check recorded under another metric name. */
  public AnswerMatch named(String metricName) {
    return new AnswerMatch(metricName, numeric, expected, extract, ignoreCase, absTol, relTol);
  }

  @Override
  public Reward score(Trajectory trajectory) {
    String want = expected.apply(trajectory);
    Optional<String> got = FinalAnswer.of(trajectory).flatMap(this::narrow);
    boolean ok = got.isPresent() && (numeric ? numericMatch(got.get(), want) : textMatch(got.get(), want));
    return Reward.of(name, ok ? 1.0 : 0.0);
  }

  private Optional<String> narrow(String answer) {
    if (extract == null) {
      return Optional.of(answer);
    }
    Matcher m = extract.matcher(answer);
    String last = null;
    while (m.find()) {
      last = m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group();
    }
    return Optional.ofNullable(last);
  }

  private boolean textMatch(String got, String want) {
    String a = normalise(got);
    String b = normalise(want);
    return ignoreCase ? a.toLowerCase(Locale.ROOT).equals(b.toLowerCase(Locale.ROOT)) : a.equals(b);
  }

  private static String normalise(String s) {
    return s.trim().replaceAll("\\s+", " ");
  }

  private boolean numericMatch(String got, String want) {
    double e;
    try {
      e = Double.parseDouble(want.trim().replace(",", ""));
    } catch (NumberFormatException ex) {
      throw new IllegalArgumentException("expected answer '" + want + "' is not a number (metric " + name + ")", ex);
    }
    OptionalDouble a = lastNumber(got);
    return a.isPresent() && Math.abs(a.getAsDouble() - e) <= Math.max(absTol, relTol * Math.abs(e));
  }

  /** The last number written in {@code text}, if any. */
  static OptionalDouble lastNumber(String text) {
    Matcher m = NUMBER.matcher(text);
    OptionalDouble last = OptionalDouble.empty();
    while (m.find()) {
      String s = m.group();
      // the pattern also matches empty strings and lone signs; those are not numbers
      if (s.chars().noneMatch(Character::isDigit)) {
        continue;
      }
      try {
        last = OptionalDouble.of(Double.parseDouble(s.replace(",", "")));
      } catch (NumberFormatException ignored) {
        // "1e" and similar fragments: not a number
      }
    }
    return last;
  }
}
