package dev.art4j.template;

import java.time.Duration;
import java.util.Objects;

/**
 * What one render of a chat template may use; past any of them it stops with a
 * {@link TemplateException} that names the limit. A template comes from a checkpoint someone
 * else wrote: without limits, one nested 20,000 deep overflowed the stack, {@code 'x' * 3e9}
 * ran out of memory and a nested {@code range} that never ends hung the process.
 *
 * @param maxDepth          how deep statements, expressions and macro calls may nest
 * @param maxOutputChars    the longest output, and the longest string or list made on the way
 * @param maxLoopIterations for-loop iterations of one render, all loops together
 * @param maxTime           wall-clock time of one render
 */
public record TemplateLimits(int maxDepth, long maxOutputChars, long maxLoopIterations, Duration maxTime) {

  /** 500 levels, 16 M characters, 1 M loop iterations, 10 s: far above any real chat template. */
  public static final TemplateLimits DEFAULT = new TemplateLimits(500, 16_000_000, 1_000_000, Duration.ofSeconds(10));

  public TemplateLimits {
    Objects.requireNonNull(maxTime, "maxTime");
    if (maxDepth < 1 || maxOutputChars < 1 || maxLoopIterations < 1 || maxTime.isNegative() || maxTime.isZero()) {
      throw new IllegalArgumentException("template limits must be positive: " + maxDepth + ", " + maxOutputChars
          + ", " + maxLoopIterations + ", " + maxTime);
    }
  }
}
