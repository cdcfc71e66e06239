package dev.art4j.template;

/**
 * A string marked safe with {@code |safe}: Jinja2's {@code Markup}. It matters in one place
 * only, {@code +}: Markup plus a plain string HTML-escapes the plain one ({@code '<a>'|safe +
 * '<b>'} is {@code <a>&lt;b&gt;}), which functionary's template relies on. Everywhere else it is
 * read as its text, since the interpreter unwraps it as soon as it is used by anything but
 * {@code +}.
 */
final class Markup {

  final String text;

  Markup(String text) {
    this.text = text;
  }

  /** {@code markupsafe.escape}: {@code & < > " '}. */
  static String escape(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&#34;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return text;
  }
}
