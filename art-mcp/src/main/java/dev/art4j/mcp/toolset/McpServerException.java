package dev.art4j.mcp.toolset;

/** An MCP server could not be reached, did not answer in time, or answered something unusable; the message names the server. */
public final class McpServerException extends RuntimeException {
  public McpServerException(String message, Throwable cause) {
    super(message, cause);
  }
}
