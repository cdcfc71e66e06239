package dev.art4j.core.chat;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A tool call made by the assistant: the tool's name and its arguments as a JSON text.
 *
 * <p>Serialised in OpenAI's chat format:
 * {@code {"id": "...", "type": "function", "function": {"name": "...", "arguments": "{...}"}}}.
 * The arguments stay a string, exactly as the model wrote them, so that a malformed call
 * can still be recorded and answered.
 *
 * @param id            call id, echoed by the tool message that answers it (may be empty)
 * @param name          the tool's name as the model wrote it
 * @param argumentsJson the arguments as a JSON text (possibly malformed)
 */
public record ToolCall(String id, String name, String argumentsJson) {

  public ToolCall {
    id = id == null ? "" : id;
    Objects.requireNonNull(name, "name");
    argumentsJson = argumentsJson == null ? "{}" : argumentsJson;
  }

  @JsonValue
  Map<String, Object> toOpenAi() {
    Map<String, Object> function = new LinkedHashMap<>();
    function.put("name", name);
    function.put("arguments", argumentsJson);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("id", id);
    json.put("type", "function");
    json.put("function", function);
    return json;
  }

  /** Reads OpenAI's nested form, or a flat {@code {"name":..., "arguments":...}}. */
  @JsonCreator
  static ToolCall fromJson(JsonNode node) {
    JsonNode fn = node.has("function") ? node.get("function") : node;
    JsonNode args = fn.get("arguments");
    String argumentsJson = args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString();
    return new ToolCall(node.path("id").asText(""), fn.path("name").asText(""), argumentsJson);
  }
}
