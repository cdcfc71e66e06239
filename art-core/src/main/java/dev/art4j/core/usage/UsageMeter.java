package dev.art4j.core.usage;

/**
 * Counts the tokens of API calls as they are made; thread-safe, for a judge or a generator
 * that many threads call at once. {@link #total()} is a consistent snapshot: the per-step use
 * is {@code meter.total().minus(snapshotAtStepStart)}.
 */
public final class UsageMeter {

  private TokenUsage total = TokenUsage.NONE;

  /** Adds one answered request; a count the API did not report is passed as 0. */
  public synchronized void record(long inputTokens, long outputTokens) {
    total = total.plus(new TokenUsage(1, Math.max(0, inputTokens), Math.max(0, outputTokens)));
  }

  /** Everything recorded so far. */
  public synchronized TokenUsage total() {
    return total;
  }
}
