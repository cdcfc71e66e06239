package dev.art4j.template;

/**
 * A chat template failed to parse or to render.
 *
 * <p>{@link #pythonType()} and {@link #reason()} are what Jinja2 would report
 * ({@code TemplateSyntaxError: unexpected '}'}, {@code UndefinedError: 'x' is undefined}, ...),
 * {@link #line()} and {@link #column()} where in the template source (1-based). When the template
 * itself gives up with {@code raise_exception(msg)}, the message is exactly {@code msg}, so that it
 * can be shown to a user as the template's author wrote it.
 */
public final class TemplateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String pythonType;
  private final String reason;
  private final int line;
  private final int column;

  TemplateException(String pythonType, String reason, int line, int column) {
    super(message(pythonType, reason, line, column));
    this.pythonType = pythonType;
    this.reason = reason;
    this.line = line;
    this.column = column;
  }

  private static String message(String pythonType, String reason, int line, int column) {
    if (raisedByTemplate(pythonType) || line <= 0) {
      return reason;
    }
    return pythonType + ": " + reason + " (line " + line + ", column " + column + ")";
  }

  private static boolean raisedByTemplate(String pythonType) {
    return "TemplateError".equals(pythonType);
  }

  /** The Jinja2 exception class this error corresponds to, e.g. {@code TemplateSyntaxError}. */
  public String pythonType() {
    return pythonType;
  }

  /** The error text without position, as Jinja2 words it. */
  public String reason() {
    return reason;
  }

  /** {@code pythonType() + ": " + reason()}: how Python prints the same error. */
  public String pythonError() {
    return pythonType + ": " + reason;
  }

  /** 1-based line in the template source, 0 when unknown. */
  public int line() {
    return line;
  }

  /** 1-based column in the template source, 0 when unknown. */
  public int column() {
    return column;
  }

  /** True when the template raised it itself with {@code raise_exception(msg)}. */
  public boolean isRaisedByTemplate() {
    return raisedByTemplate(pythonType);
  }
}
