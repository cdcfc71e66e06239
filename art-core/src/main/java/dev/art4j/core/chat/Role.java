package dev.art4j.core.chat;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Who speaks a {@link Message}; serialised as OpenAI's lower-case role names. */
public enum Role {
  SYSTEM, USER, ASSISTANT, TOOL;

  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static Role of(String name) {
    for (Role r : values()) {
      if (r.wireName().equalsIgnoreCase(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown chat role '" + name + "' (expected system, user, assistant or tool)");
  }
}
