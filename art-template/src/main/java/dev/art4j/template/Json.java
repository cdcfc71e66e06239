package dev.art4j.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code tojson} filter as transformers defines it: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}.
 * Without indent the separators are {@code ", "} and {@code ": "}; with indent, {@code ","} and
 * {@code ": "} and one item per line. Floats print as Python's {@code repr}.
 */
final class Json {

  private final boolean ensureAscii;
  private final String indent;
  private final String itemSeparator;
  private final String keySeparator;
  private final boolean sortKeys;

  Json(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
    this.ensureAscii = ensureAscii;
    this.indent = indent;
    this.itemSeparator = itemSeparator != null ? itemSeparator : indent != null ? "," : ", ";
    this.keySeparator = keySeparator != null ? keySeparator : ": ";
    this.sortKeys = sortKeys;
  }

  static final Json DEFAULT = new Json(false, null, null, null, false);

  String dumps(Object v) {
    StringBuilder sb = new StringBuilder();
    write(v, sb, 0);
    return sb.toString();
  }

  private void newline(StringBuilder sb, int level) {
    sb.append('\n');
    for (int i = 0; i < level; i++) {
      sb.append(indent);
    }
  }

  private void write(Object v, StringBuilder sb, int level) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(s, sb);
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Long || v instanceof BigInteger) {
      sb.append(v);
    } else if (v instanceof Double d) {
      sb.append(floatText(d));
    } else if (v instanceof List<?> l) {
      if (l.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) sb.append(itemSeparator);
        if (indent != null) newline(sb, level + 1);
        write(l.get(i), sb, level + 1);
      }
      if (indent != null) newline(sb, level);
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        sb.append("{}");
        return;
      }
      List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
      if (sortKeys) {
        entries.sort((a, b) -> Py.compare(a.getKey(), b.getKey(), "<"));
      }
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : entries) {
        if (!first) sb.append(itemSeparator);
        first = false;
        if (indent != null) newline(sb, level + 1);
        string(key(e.getKey()), sb);
        sb.append(keySeparator);
        write(e.getValue(), sb, level + 1);
      }
      if (indent != null) newline(sb, level);
      sb.append('}');
    } else {
      throw PyError.typeError("Object of type " + Py.typeName(v) + " is not JSON serializable");
    }
  }

  private static String key(Object k) {
    if (k instanceof String s) return s;
    if (k == null) return "null";
    if (k instanceof Boolean b) return b ? "true" : "false";
    if (k instanceof Long || k instanceof BigInteger) return k.toString();
    if (k instanceof Double d) return floatText(d);
    throw PyError.typeError("keys must be str, int, float, bool or None, not " + Py.typeName(k));
  }

  private static String floatText(double d) {
    if (Double.isNaN(d)) return "NaN";
    if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
    return Py.floatRepr(d);
  }

  private void string(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        case '\b': sb.append("\\b"); break;
        case '\f': sb.append("\\f"); break;
        default:
          if (c < 0x20 || (ensureAscii && c > 0x7e)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }
}
