package dev.art4j.core.usage;

/**
 * Tokens billed by an API model: how many requests, prompt (input) tokens and completion
 * (output) tokens, as the API's {@code usage} reports them.
 *
 * @param requests     calls that came back with an answer (failed calls bill nothing)
 * @param inputTokens  prompt tokens, summed over the requests
 * @param outputTokens completion tokens, summed over the requests
 */
public record TokenUsage(long requests, long inputTokens, long outputTokens) {

  /** No requests yet. */
  public static final TokenUsage NONE = new TokenUsage(0, 0, 0);

  public TokenUsage {
    if (requests < 0 || inputTokens < 0 || outputTokens < 0) {
      throw new IllegalArgumentException("token counts must not be negative: " + requests + ", " + inputTokens + ", "
          + outputTokens);
    }
  }

  public TokenUsage plus(TokenUsage other) {
    return new TokenUsage(requests + other.requests, inputTokens + other.inputTokens, outputTokens + other.outputTokens);
  }

  /** What was used since {@code earlier}, a snapshot of the same meter. */
  public TokenUsage minus(TokenUsage earlier) {
    return new TokenUsage(requests - earlier.requests, inputTokens - earlier.inputTokens,
        outputTokens - earlier.outputTokens);
  }

  /** The cost in the prices' currency: {@code (inputTokens * inputPerMillion + outputTokens * outputPerMillion) / 1e6}. */
  public double cost(TokenPrices prices) {
    return prices.cost(this);
  }
}
