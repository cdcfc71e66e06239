package dev.art4j.template;

/**
 * An error raised while evaluating, named like the Python exception Jinja2 would raise
 * ({@code TypeError}, {@code UndefinedError}, ...). The interpreter adds the template position
 * and turns it into a {@link TemplateException}.
 */
final class PyError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  final String type;

  PyError(String type, String message) {
    super(message, null, false, false);
    this.type = type;
  }

  static PyError typeError(String message) {
    return new PyError("TypeError", message);
  }
}
