package dev.art4j.core.chat;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * What a tool call returned, as text for the model. Failures (unknown tool, bad arguments,
 * a tool-side error, a time-out) are results too, flagged with {@code isError}, so that the
 * rollout goes on and the model can learn from the message.
 */
public record ToolResult(@JsonProperty("text") String text, @JsonProperty("is_error") boolean isError) {

  public ToolResult {
    Objects.requireNonNull(text, "text");
  }

  public static ToolResult ok(String text) {
    return new ToolResult(text, false);
  }

  public static ToolResult error(String text) {
    return new ToolResult(text, true);
  }
}
