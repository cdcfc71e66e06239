package dev.art4j.template;

import java.util.List;
import java.util.Map;

/** Python's {@code str.format} (plain fields only) and printf-style {@code %} for strings. */
final class Formatting {

  private Formatting() {}

  static String format(String fmt, List<Object> args, Map<String, Object> kwargs) {
    StringBuilder sb = new StringBuilder();
    int auto = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c == '{') {
        if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '{') {
          sb.append('{');
          i++;
          continue;
        }
        int end = fmt.indexOf('}', i);
        if (end < 0) throw new PyError("ValueError", "Single '{' encountered in format string");
        String field = fmt.substring(i + 1, end);
        if (field.contains(":") || field.contains("!")) {
          throw new PyError("ValueError", "format specs are not supported in chat templates: {" + field + "}");
        }
        Object v;
        if (field.isEmpty()) {
          if (auto >= args.size()) throw new PyError("IndexError", "Replacement index " + auto + " out of range for positional args tuple");
          v = args.get(auto++);
        } else if (Character.isDigit(field.charAt(0))) {
          int k = Integer.parseInt(field);
          if (k >= args.size()) throw new PyError("IndexError", "Replacement index " + k + " out of range for positional args tuple");
          v = args.get(k);
        } else {
          if (!kwargs.containsKey(field)) throw new PyError("KeyError", "'" + field + "'");
          v = kwargs.get(field);
        }
        sb.append(Py.str(v));
        i = end;
      } else if (c == '}') {
        if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '}') {
          i++;
        } else {
          throw new PyError("ValueError", "Single '}' encountered in format string");
        }
        sb.append('}');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** {@code fmt % values} for %s, %r, %d, %i, %f (with precision) and %%. */
  static String percent(String fmt, Object values) {
    List<Object> args = values instanceof Tuple t ? t : List.of(values == null ? "None" : values);
    if (values == null) {
      args = java.util.Collections.singletonList(null);
    }
    Map<?, ?> mapping = values instanceof Map<?, ?> m ? m : null;
    StringBuilder sb = new StringBuilder();
    int k = 0;
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c != '%') {
        sb.append(c);
        continue;
      }
      int j = i + 1;
      String key = null;
      if (j < fmt.length() && fmt.charAt(j) == '(') {
        int close = fmt.indexOf(')', j);
        key = fmt.substring(j + 1, close);
        j = close + 1;
      }
      int specStart = j;
      while (j < fmt.length() && "0123456789.-+ #".indexOf(fmt.charAt(j)) >= 0) j++;
      if (j >= fmt.length()) throw new PyError("ValueError", "incomplete format");
      String spec = fmt.substring(specStart, j);
      char conv = fmt.charAt(j);
      i = j;
      if (conv == '%') {
        sb.append('%');
        continue;
      }
      Object v;
      if (key != null) {
        if (mapping == null) throw PyError.typeError("format requires a mapping");
        v = mapping.get(key);
      } else {
        if (k >= args.size()) throw PyError.typeError("not enough arguments for format string");
        v = args.get(k++);
      }
      String text;
      switch (conv) {
        case 's': text = Py.str(v); break;
        case 'r': text = Py.repr(v); break;
        case 'd': case 'i': text = Long.toString(Py.toLong(v)); break;
        case 'f': case 'F': case 'e': case 'g':
          text = String.format(java.util.Locale.ROOT, "%" + (spec.contains(".") ? spec.substring(spec.indexOf('.')) : ".6") + conv, Py.toDouble(v));
          spec = spec.contains(".") ? spec.substring(0, spec.indexOf('.')) : spec;
          break;
        default: throw new PyError("ValueError", "unsupported format character '" + conv + "'");
      }
      if (!spec.isEmpty() && !spec.startsWith(".")) {
        boolean left = spec.startsWith("-");
        String w = spec.replaceAll("[^0-9]", "");
        if (!w.isEmpty()) {
          int width = Integer.parseInt(w);
          String fill = spec.startsWith("0") && !left ? "0" : " ";
          while (text.length() < width) text = left ? text + " " : fill + text;
        }
      }
      sb.append(text);
    }
    if (!(values instanceof Map) && !(values instanceof List && !(values instanceof Tuple)) && k < args.size()) {
      throw PyError.typeError("not all arguments converted during string formatting");
    }
    return sb.toString();
  }

}
