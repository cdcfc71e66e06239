package dev.art4j.template;

import java.util.Arrays;

/**
 * Template text as Jinja2 sees it: every {@code \r\n} and {@code \r} turned into {@code \n} and one
 * trailing newline dropped ({@code keep_trailing_newline=False}). Maps offsets to line and column.
 */
final class Source {

  final String text;
  private final int[] lineStarts;

  Source(String raw) {
    String s = raw.indexOf('\r') < 0 ? raw : raw.replace("\r\n", "\n").replace('\r', '\n');
    if (s.endsWith("\n")) {
      s = s.substring(0, s.length() - 1);
    }
    this.text = s;
    int[] starts = new int[16];
    int n = 0;
    starts[n++] = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '\n') {
        if (n == starts.length) {
          starts = Arrays.copyOf(starts, n * 2);
        }
        starts[n++] = i + 1;
      }
    }
    this.lineStarts = Arrays.copyOf(starts, n);
  }

  int line(int pos) {
    int i = Arrays.binarySearch(lineStarts, pos);
    return (i >= 0 ? i : -i - 2) + 1;
  }

  int column(int pos) {
    return pos - lineStarts[line(pos) - 1] + 1;
  }

  TemplateException error(String pythonType, String reason, int pos) {
    return new TemplateException(pythonType, reason, line(pos), column(pos));
  }

  TemplateException syntaxError(String reason, int pos) {
    return error("TemplateSyntaxError", reason, pos);
  }
}
