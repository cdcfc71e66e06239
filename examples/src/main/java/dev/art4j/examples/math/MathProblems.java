package dev.art4j.examples.math;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Seeded generation of math scenarios, with a held-out split that shares no (operation, a, b)
 * with the training split. Operands: 2..99 for add, subtract (a > b) and multiply; for division
 * a divisor 2..12 and a whole quotient 2..50, so every correct answer is a whole number.
 */
public final class MathProblems {

  /** Training scenarios and held-out scenarios. */
  public record Split(List<MathProblem> train, List<MathProblem> val) {}

  private MathProblems() {}

  /** {@code trainSize} + {@code valSize} distinct problems from {@code seed}; the same seed gives the same split. */
  public static Split split(long seed, int trainSize, int valSize) {
    Random rnd = new Random(seed);
    Set<String> seen = new HashSet<>();
    List<MathProblem> train = new ArrayList<>(trainSize);
    List<MathProblem> val = new ArrayList<>(valSize);
    int guard = 0;
    while (train.size() < trainSize || val.size() < valSize) {
      if (++guard > 100 * (trainSize + valSize) + 1000) {
        throw new IllegalStateException("cannot draw " + (trainSize + valSize) + " distinct math problems");
      }
      boolean forVal = val.size() < valSize && (train.size() >= trainSize || rnd.nextInt(trainSize + valSize) < valSize);
      List<MathProblem> target = forVal ? val : train;
      MathProblem p = draw(rnd, (forVal ? "val-" : "train-") + target.size());
      if (seen.add(p.operation() + " " + p.a() + " " + p.b())) {
        target.add(p);
      }
    }
    return new Split(List.copyOf(train), List.copyOf(val));
  }

  /** One random problem. */
  public static MathProblem draw(Random rnd, String id) {
    Operation op = Operation.values()[rnd.nextInt(Operation.values().length)];
    long a;
    long b;
    switch (op) {
      case DIVISION -> {
        b = 2 + rnd.nextInt(11);
        a = b * (2 + rnd.nextInt(49));
      }
      case SUBTRACT -> {
        a = 3 + rnd.nextInt(97);
        b = 2 + rnd.nextInt((int) a - 2);
      }
      default -> {
        a = 2 + rnd.nextInt(98);
        b = 2 + rnd.nextInt(98);
      }
    }
    String phrasing = op.phrasings().get(rnd.nextInt(op.phrasings().size()));
    return new MathProblem(id, op, a, b, phrasing.replace("{a}", Long.toString(a)).replace("{b}", Long.toString(b)));
  }
}
