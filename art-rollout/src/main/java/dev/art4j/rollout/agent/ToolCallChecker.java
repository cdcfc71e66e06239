package dev.art4j.rollout.agent;

import dev.art4j.core.chat.ArgumentValidator;
import dev.art4j.core.chat.ClosestNames;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks parsed tool calls against the tools offered, before any is executed: the name must be
 * one of the tools (else the message names the closest ones: {@code devide} -> "did you mean
 * 'divide'?") and the arguments must pass the basic checks of the tool's JSON schema
 * ({@code required}, {@code type}, {@code enum}, {@code additionalProperties: false}).
 */
public final class ToolCallChecker {

  private ToolCallChecker() {}

  /** The reply with every call that breaks a rule given its problem (calls already bad stay as they are). */
  public static ParsedReply check(ParsedReply reply, List<ToolSpec> tools) {
    List<ParsedCall> out = new ArrayList<>(reply.calls().size());
    for (ParsedCall c : reply.calls()) {
      out.add(c.isOk() ? c.withProblem(problem(c.call(), tools)) : c);
    }
    return reply.withCalls(out);
  }

  /** What is wrong with a call, as a message for the model, or null if nothing is. */
  public static String problem(ToolCall call, List<ToolSpec> tools) {
    ToolSpec spec = tools.stream().filter(t -> t.name().equals(call.name())).findFirst().orElse(null);
    if (spec == null) {
      List<String> names = tools.stream().map(ToolSpec::name).toList();
      StringBuilder sb = new StringBuilder("Error: unknown tool '").append(call.name()).append("'.");
      List<String> close = ClosestNames.closest(call.name(), names, 3);
      if (!close.isEmpty()) {
        sb.append(" Did you mean ").append(quotedList(close, " or ")).append('?');
      }
      if (names.isEmpty()) {
        sb.append(" No tools are available.");
      } else if (names.size() <= 30) {
        sb.append(" Available tools: ").append(String.join(", ", names)).append('.');
      }
      return sb.toString();
    }
    JsonNode args;
    try {
      args = CallJson.JSON.readTree(call.argumentsJson());
    } catch (JsonProcessingException e) {
      return "Error: the arguments of tool '" + call.name() + "' are not valid JSON (" + e.getOriginalMessage() + ").";
    }
    if (args == null || args.isMissingNode()) {
      args = CallJson.JSON.createObjectNode();
    }
    List<String> problems = ArgumentValidator.validate(spec.parameters(), args);
    if (problems.isEmpty()) {
      return null;
    }
    return "Error: invalid arguments for tool '" + call.name() + "': " + String.join("; ", problems)
        + ". Expected arguments matching the schema " + CallJson.abbreviate(spec.parameters().toString(), 400) + ".";
  }

  private static String quotedList(List<String> names, String sep) {
    List<String> q = names.stream().map(n -> "'" + n + "'").toList();
    return String.join(sep, q);
  }
}
