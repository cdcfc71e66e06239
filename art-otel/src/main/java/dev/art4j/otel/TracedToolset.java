package dev.art4j.otel;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.ToolErrorKind;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.util.List;
import java.util.function.Function;

/**
 * A toolset whose every call is an {@code execute_tool <name>} span, a child of the caller's
 * current span: tool name, MCP server, duration, and for a failed call status ERROR with
 * {@code error.type} = the {@link ToolErrorKind} ({@code unknown_tool}, {@code bad_arguments},
 * {@code server_error}, {@code timeout}). Arguments and results are not recorded (they may hold
 * user data). Closing it closes the toolset it wraps.
 */
final class TracedToolset implements Toolset {

  private final Toolset tools;
  private final Tracer tracer;
  private final Function<String, String> serverOf;

  TracedToolset(Toolset tools, Tracer tracer, Function<String, String> serverOf) {
    this.tools = tools;
    this.tracer = tracer;
    this.serverOf = serverOf;
  }

  @Override
  public List<ToolSpec> tools() {
    return tools.tools();
  }

  @Override
  public ToolResult call(String name, String argumentsJson) {
    Span span = tracer.spanBuilder("execute_tool " + name).setSpanKind(SpanKind.INTERNAL)
        .setAttribute(GenAi.OPERATION, "execute_tool")
        .setAttribute(GenAi.TOOL_NAME, String.valueOf(name))
        .setAttribute(GenAi.TOOL_TYPE, "function")
        .startSpan();
    String server = name == null ? null : serverOf.apply(name);
    if (server != null) {
      span.setAttribute(GenAi.MCP_SERVER, server);
      span.setAttribute(GenAi.MCP_METHOD, "tools/call");
    }
    try {
      ToolResult r = tools.call(name, argumentsJson);
      if (r != null && r.isError()) {
        span.setStatus(StatusCode.ERROR, firstLine(r.text()));
        span.setAttribute(GenAi.ERROR_TYPE, ToolErrorKind.classify(r.text()).key());
      }
      return r;
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      span.setAttribute(GenAi.ERROR_TYPE, e.getClass().getName());
      throw e;
    } finally {
      span.end();
    }
  }

  private static String firstLine(String text) {
    String line = text == null ? "" : text.lines().findFirst().orElse("");
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }

  @Override
  public void close() {
    tools.close();
  }
}
