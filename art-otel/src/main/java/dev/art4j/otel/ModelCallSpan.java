package dev.art4j.otel;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.util.List;

/**
 * The span of one model call ({@code chat <model>}): started when the prompt is submitted, ended
 * (from any thread) when the completion arrives. Not made current: calls complete asynchronously.
 */
public final class ModelCallSpan {

  private final Span span;

  ModelCallSpan(Span span) {
    this.span = span;
  }

  /** Ends the call: {@code gen_ai.usage.output_tokens} and {@code gen_ai.response.finish_reasons}. */
  public void end(int outputTokens, String finishReason) {
    span.setAttribute(GenAi.OUTPUT_TOKENS, (long) outputTokens);
    if (finishReason != null) {
      span.setAttribute(GenAi.FINISH_REASONS, List.of(finishReason));
    }
    span.end();
  }

  /** Ends the call as failed. */
  public void fail(Throwable e) {
    span.recordException(e);
    span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
    span.setAttribute(GenAi.ERROR_TYPE, e.getClass().getName());
    span.end();
  }
}
