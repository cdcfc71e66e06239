package dev.art4j.mcp.scenario;

/** The model did not give enough usable scenarios within the allowed attempts; the message lists what went wrong. */
public final class ScenarioGenerationException extends RuntimeException {
  public ScenarioGenerationException(String message) {
    super(message);
  }
}
