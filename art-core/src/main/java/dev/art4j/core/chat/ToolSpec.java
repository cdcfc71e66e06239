package dev.art4j.core.chat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Objects;

/**
 * A tool the model may call: its name, what it does, and the JSON schema of its arguments.
 * This is what chat templates render into the system prompt and what toolsets validate against.
 *
 * @param name        unique tool name
 * @param description what the tool does, for the model
 * @param parameters  JSON schema of the arguments object ({@code {"type":"object","properties":{...}}})
 */
public record ToolSpec(
    @JsonProperty("name") String name,
    @JsonProperty("description") String description,
    @JsonProperty("parameters") JsonNode parameters) {

  public ToolSpec {
    Objects.requireNonNull(name, "name");
    description = description == null ? "" : description;
    if (parameters == null || parameters.isNull()) {
      parameters = JsonNodeFactory.instance.objectNode().put("type", "object")
          .set("properties", JsonNodeFactory.instance.objectNode());
    }
  }
}
