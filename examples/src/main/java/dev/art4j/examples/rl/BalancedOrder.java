package dev.art4j.examples.rl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A training order in which every class of scenario comes equally often: the scenarios shuffled,
 * then interleaved class by class ({@code c0 c1 c2 c0 c1 c2 ...}), for as many rounds as the
 * smallest class fills. Why: a GRPO update from one group moves the policy's choice for every
 * scenario a little (their features are mostly shared); with steps that favour one class that
 * shared drift swamps the per-class signal. Steps of whole rounds cancel it (examples/README.md).
 */
public final class BalancedOrder {

  private BalancedOrder() {}

  /**
   * @param items   the training scenarios
   * @param seed    seeds the shuffle
   * @param classes the classes, in the order each round visits them
   * @param classOf a scenario's class
   */
  public static <S, K> List<S> of(List<S> items, long seed, List<K> classes, Function<S, K> classOf) {
    List<S> shuffled = new ArrayList<>(items);
    Collections.shuffle(shuffled, new Random(seed));
    List<List<S>> byClass = new ArrayList<>();
    for (K k : classes) {
      byClass.add(shuffled.stream().filter(s -> classOf.apply(s).equals(k)).toList());
    }
    int rounds = byClass.stream().mapToInt(List::size).min().orElse(0);
    List<S> out = new ArrayList<>(rounds * classes.size());
    for (int i = 0; i < rounds; i++) {
      for (List<S> c : byClass) {
        out.add(c.get(i));
      }
    }
    return out;
  }
}
