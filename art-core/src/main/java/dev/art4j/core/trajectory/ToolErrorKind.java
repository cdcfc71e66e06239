package dev.art4j.core.trajectory;

import java.util.Locale;

/**
 * What went wrong with a failed tool call, read from the error text the model was shown (a
 * {@code ToolResult} has no error code). The texts recognised are the ones this project writes:
 * art-rollout's tool-call checks ({@code Error: unknown tool 'x'}, {@code Error: invalid
 * arguments for tool 'x'}, {@code Error: the arguments of tool 'x' are not valid JSON},
 * {@code Error: the tool call is not valid JSON}) and art-mcp's {@code McpToolset}
 * ({@code Unknown tool `x`}, {@code Invalid arguments for tool `x`}, {@code Arguments for tool `x`
 * are not valid JSON}, {@code Tool `x` timed out after 30 s}); anything else is the tool's (or
 * its server's) own error.
 */
public enum ToolErrorKind {
  /** The model named a tool it was not offered. */
  UNKNOWN_TOOL("unknown_tool"),
  /** The call or its arguments were malformed or did not fit the tool's schema. */
  BAD_ARGUMENTS("bad_arguments"),
  /** The tool ran and reported an error, or its server failed. */
  SERVER_ERROR("server_error"),
  /** The call was abandoned after the time-out. */
  TIMEOUT("timeout");

  private final String key;

  ToolErrorKind(String key) {
    this.key = key;
  }

  /** The name used in metrics: {@code unknown_tool}, {@code bad_arguments}, {@code server_error}, {@code timeout}. */
  public String key() {
    return key;
  }

  /** The kind of the error whose text the model was shown. */
  public static ToolErrorKind classify(String errorText) {
    String t = errorText == null ? "" : errorText.strip().toLowerCase(Locale.ROOT);
    if (t.startsWith("error:")) {
      t = t.substring("error:".length()).strip();
    }
    if (t.startsWith("unknown tool")) {
      return UNKNOWN_TOOL;
    }
    if (t.startsWith("invalid arguments for tool") || t.startsWith("arguments for tool")
        || t.startsWith("the arguments of tool") || t.startsWith("the tool call")) {
      return BAD_ARGUMENTS;
    }
    String firstLine = t.lines().findFirst().orElse("");
    // ours ("Tool `x` timed out after 30 s and was abandoned.") and langchain4j-mcp's default text
    if ((firstLine.startsWith("tool `") && firstLine.contains(" timed out after "))
        || firstLine.startsWith("there was a timeout executing the tool")) {
      return TIMEOUT;
    }
    return SERVER_ERROR;
  }
}
