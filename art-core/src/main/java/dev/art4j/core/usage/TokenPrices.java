package dev.art4j.core.usage;

/**
 * An API model's prices per million tokens, as providers list them (e.g. 0.40 in, 1.60 out
 * for a small OpenAI model, in US dollars).
 *
 * <p>{@code cost = (inputTokens * inputPerMillion + outputTokens * outputPerMillion) / 1e6}.
 *
 * @param inputPerMillion  price of a million prompt tokens
 * @param outputPerMillion price of a million completion tokens
 */
public record TokenPrices(double inputPerMillion, double outputPerMillion) {

  public TokenPrices {
    if (!(inputPerMillion >= 0) || !(outputPerMillion >= 0) || Double.isInfinite(inputPerMillion)
        || Double.isInfinite(outputPerMillion)) {
      throw new IllegalArgumentException("token prices must be finite and >= 0, got " + inputPerMillion + " in, "
          + outputPerMillion + " out");
    }
  }

  /** The cost of {@code usage} (see the class comment). */
  public double cost(TokenUsage usage) {
    return (usage.inputTokens() * inputPerMillion + usage.outputTokens() * outputPerMillion) / 1e6;
  }
}
