package dev.art4j.rollout.gather;

import java.util.List;

/**
 * Thrown by {@link Gather#run()} when more rollouts failed than its {@code maxExceptions} budget
 * allows (or an {@code afterEach} hook failed). The first failure is the cause; the others are
 * suppressed exceptions.
 */
public final class GatherException extends RuntimeException {

  private final int failures;

  GatherException(String message, int failures, List<Throwable> all) {
    super(message, all.isEmpty() ? null : all.get(0));
    this.failures = failures;
    for (int i = 1; i < all.size(); i++) {
      addSuppressed(all.get(i));
    }
  }

  /** How many rollouts had failed when the run stopped. */
  public int failures() {
    return failures;
  }
}
