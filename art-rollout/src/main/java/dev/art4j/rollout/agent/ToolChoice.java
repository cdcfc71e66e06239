package dev.art4j.rollout.agent;

/**
 * Whether the model may, must, or must not call a tool (OpenAI's {@code tool_choice}).
 * {@code REQUIRED} and a named function are enforced by prefilling the reply with the start of
 * a call ({@link ToolCallParser#forcedCallPrefix}; those tokens are prompt, not sampled), then by
 * constrained decoding of the rest: one of the tools' names (required), arguments valid under
 * that tool's {@code parameters} schema, and the call's closing text
 * ({@link ToolCallParser#forcedCallSuffix}), then the end of the turn. One call per reply.
 *
 * @param mode     auto, none, required or function
 * @param function the tool's name for {@link Mode#FUNCTION}, else null
 */
public record ToolChoice(Mode mode, String function) {

  /** The ways a tool call can be chosen. */
  public enum Mode { AUTO, NONE, REQUIRED, FUNCTION }

  public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
  public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
  public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

  public ToolChoice {
    if ((mode == Mode.FUNCTION) != (function != null)) {
      throw new IllegalArgumentException("a function name goes with mode FUNCTION only");
    }
  }

  /** Forces a call of the named tool. */
  public static ToolChoice function(String name) {
    return new ToolChoice(Mode.FUNCTION, name);
  }
}
