package dev.art4j.core.chat;

import java.util.List;

/**
 * The tools an agent can use: MCP servers (art-mcp's {@code McpToolset}), an in-process set of
 * Java functions, or a game environment. Implementations never throw for a bad call; they
 * answer with a {@link ToolResult} whose {@code isError} is set and whose text says what was wrong.
 */
public interface Toolset extends AutoCloseable {

  /** The tools the model is shown. */
  List<ToolSpec> tools();

  /** Calls a tool; {@code argumentsJson} is the arguments object as the model wrote it. */
  ToolResult call(String name, String argumentsJson);

  @Override
  default void close() {}
}
