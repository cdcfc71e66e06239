package dev.art4j.rollout.agent;

import dev.art4j.core.chat.ToolCall;
import java.util.Objects;

/**
 * One tool call found in a model's reply, with what is wrong with it, if anything.
 *
 * @param call    the call as the model wrote it (for a malformed one: the name if it could be
 *                read, else empty, and the raw text as its arguments)
 * @param problem null when the call can be executed; otherwise the message for the model, which
 *                the agent sends back as the tool's answer instead of calling the tool
 */
public record ParsedCall(ToolCall call, String problem) {

  public ParsedCall {
    Objects.requireNonNull(call, "call");
  }

  /** A call with nothing wrong found so far. */
  public static ParsedCall ok(ToolCall call) {
    return new ParsedCall(call, null);
  }

  /** True when the call can be executed. */
  public boolean isOk() {
    return problem == null;
  }

  /** This call with a problem found later (unknown tool, arguments breaking the schema). */
  public ParsedCall withProblem(String newProblem) {
    return new ParsedCall(call, newProblem);
  }
}
