package dev.art4j.otel;

import dev.art4j.core.trajectory.Trajectory;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.Map;

/**
 * The span of one rollout ({@code invoke_agent <agent>}), current on the thread that started it
 * until {@link #close()}, so that the model and tool calls the rollout makes on that thread
 * become its children and share its trace. Use it in try-with-resources on the rollout's thread.
 */
public final class RolloutSpan implements AutoCloseable {

  private final Span span;
  private final Scope scope;

  RolloutSpan(Span span, Scope scope) {
    this.span = span;
    this.scope = scope;
  }

  /**
   * Records the finished rollout: {@code art4j.reward}, the prompt and sampled token counts as
   * {@code gen_ai.usage.input_tokens}/{@code output_tokens}, tool calls and errors, the finish
   * reason and every trajectory metric as {@code art4j.metric.<name>}.
   */
  public RolloutSpan end(Trajectory t) {
    span.setAttribute(GenAi.REWARD, t.reward());
    Map<String, Double> m = t.metrics();
    putLong(GenAi.INPUT_TOKENS.getKey(), m.get("prompt_tokens"));
    putLong(GenAi.OUTPUT_TOKENS.getKey(), m.get("sampled_tokens"));
    putLong(GenAi.TOOL_CALLS.getKey(), m.get("tool_calls"));
    putLong(GenAi.TOOL_ERRORS.getKey(), m.get("tool_errors"));
    Object finish = t.metadata().get("finish_reason");
    if (finish != null) {
      span.setAttribute(GenAi.FINISH_REASON, finish.toString());
    }
    m.forEach((k, v) -> span.setAttribute(GenAi.METRIC_PREFIX + k, v));
    return this;
  }

  /** Marks the rollout failed (the exception is recorded on the span). */
  public RolloutSpan fail(Throwable e) {
    span.recordException(e);
    span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, String.valueOf(e.getMessage()));
    span.setAttribute(GenAi.ERROR_TYPE, e.getClass().getName());
    return this;
  }

  private void putLong(String key, Double v) {
    if (v != null) {
      span.setAttribute(key, v.longValue());
    }
  }

  /** Ends the span and restores the thread's previous context. */
  @Override
  public void close() {
    scope.close();
    span.end();
  }
}
