package dev.art4j.train;

/** How the learning rate moves over steps. */
public enum LrSchedule {

  /** {@code lr(step) = lr}. */
  CONSTANT,

  /**
   * Linear warm-up, then constant: {@code lr(step) = lr * min(1, step / warmupSteps)} for
   * 1-based {@code step}; with {@code warmupSteps = 0} it is constant.
   */
  LINEAR_WARMUP;

  /** The learning rate for 1-based {@code step}. */
  public double at(int step, double lr, int warmupSteps) {
    if (this == CONSTANT || warmupSteps <= 0) {
      return lr;
    }
    return lr * Math.min(1.0, (double) step / warmupSteps);
  }
}
