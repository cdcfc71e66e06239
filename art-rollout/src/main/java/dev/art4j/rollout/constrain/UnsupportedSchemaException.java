package dev.art4j.rollout.constrain;

/**
 * A JSON schema outside the subset that constrained decoding enforces, or one no value can
 * satisfy. {@link #path()} names the offending place, e.g. {@code properties.age.minimum}
 * (empty for the schema's root); the message starts with it.
 */
public final class UnsupportedSchemaException extends IllegalArgumentException {

  private final String path;

  UnsupportedSchemaException(String path, String message) {
    super((path.isEmpty() ? "the schema" : path) + ": " + message);
    this.path = path;
  }

  /** Where in the schema, as dotted keys and {@code [i]} indexes from its root; empty for the root. */
  public String path() {
    return path;
  }

  /** The same problem with {@code prefix} put before the path (e.g. {@code response_format.json_schema.schema}). */
  public UnsupportedSchemaException under(String prefix) {
    String p = path.isEmpty() ? prefix : path.startsWith("[") ? prefix + path : prefix + "." + path;
    String detail = getMessage().substring((path.isEmpty() ? "the schema" : path).length() + 2);
    return new UnsupportedSchemaException(p, detail);
  }
}
