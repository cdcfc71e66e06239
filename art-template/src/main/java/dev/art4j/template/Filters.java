package dev.art4j.template;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's built-in filters that chat templates use, with Jinja2's argument names and defaults,
 * plus transformers' {@code tojson}.
 */
final class Filters {

  private Filters() {}

  private static final Set<String> NAMES = Set.of(
      "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
      "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
      "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
      "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount");

  static boolean exists(String name) {
    return NAMES.contains(name);
  }

  static Object apply(Interpreter in, String name, Object v, List<Object> args, Map<String, Object> kwargs) {
    Methods.Params p = new Methods.Params(name, args, kwargs);
    switch (name) {
      case "length":
      case "count":
        return (long) Py.len(v);
      case "tojson": {
        Object indent = p.opt(1, "indent", null);
        Object separators = p.opt(2, "separators", null);
        String itemSep = null;
        String keySep = null;
        if (separators instanceof List<?> l && l.size() == 2) {
          itemSep = Py.str(l.get(0));
          keySep = Py.str(l.get(1));
        }
        String ind = indent == null ? null : indent instanceof String s ? s : " ".repeat((int) Math.max(0, Py.toLong(indent)));
        boolean ensureAscii = Py.truthy(p.opt(0, "ensure_ascii", false));
        boolean sortKeys = Py.truthy(p.opt(3, "sort_keys", false));
        Json json = ind == null && itemSep == null && !ensureAscii && !sortKeys ? Json.DEFAULT : new Json(ensureAscii, ind, itemSep, keySep, sortKeys);
        return json.dumps(v);
      }
      case "trim": {
        Object chars = p.opt(0, "chars", null);
        return Py.strip(Py.str(v), chars == null ? null : Py.str(chars), true, true);
      }
      case "string": return v instanceof String ? v : Py.str(v);
      case "safe": return Py.str(v);
      case "upper": return Py.str(v).toUpperCase(Locale.ROOT);
      case "lower": return Py.str(v).toLowerCase(Locale.ROOT);
      case "capitalize": return Methods.capitalize(Py.str(v));
      case "title": return title(Py.str(v));
      case "replace": {
        String s = Py.str(v);
        return Methods.replace(s, Py.str(p.req(0, "old")), Py.str(p.req(1, "new")), Py.toLong(p.opt(2, "count", -1L)));
      }
      case "center": return Methods.pad(Py.str(v), (int) Py.toLong(p.opt(0, "width", 80L)), " ", "center");
      case "indent": {
        if (!(v instanceof String s)) {
          if (v instanceof Undefined u) throw u.error();
          if (v instanceof Tuple) throw PyError.typeError("can only concatenate tuple (not \"str\") to tuple");
          if (v instanceof List) throw new PyError("AttributeError", "'list' object has no attribute 'splitlines'");
          throw PyError.typeError("unsupported operand type(s) for +=: '" + Py.typeName(v) + "' and 'str'");
        }
        return indent(s, p.opt(0, "width", 4L), Py.truthy(p.opt(1, "first", false)), Py.truthy(p.opt(2, "blank", false)));
      }
      case "wordcount": return wordcount(Py.str(v));
      case "escape": case "e": case "forceescape": return escape(Py.str(v));
      case "format": {
        String fmt = Py.str(v);
        if (!kwargs.isEmpty()) return Formatting.percent(fmt, new LinkedHashMap<>(kwargs));
        return Formatting.percent(fmt, Tuple.of(args));
      }
      case "default": case "d": {
        Object dflt = p.opt(0, "default_value", "");
        boolean bool = Py.truthy(p.opt(1, "boolean", false));
        if (v instanceof Undefined || (bool && !Py.truthy(v))) return dflt;
        return v;
      }
      case "join": {
        String sep = Py.str(p.opt(0, "d", ""));
        Object attribute = p.opt(1, "attribute", null);
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object o : Py.iterate(v)) {
          if (!first) sb.append(sep);
          first = false;
          sb.append(Py.str(attribute == null ? o : in.attrPath(o, attribute, null)));
        }
        return sb.toString();
      }
      case "first": {
        List<Object> l = Py.iterate(v);
        return l.isEmpty() ? Undefined.hint("No first item, sequence was empty.") : l.get(0);
      }
      case "last": {
        if (!(v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined)) {
          throw PyError.typeError("'" + Py.typeName(v) + "' object is not reversible");
        }
        List<Object> l = Py.iterate(v);
        return l.isEmpty() ? Undefined.hint("No last item, sequence was empty.") : l.get(l.size() - 1);
      }
      case "list": return new ArrayList<>(Py.iterate(v));
      case "items": {
        if (v instanceof Undefined) return new ArrayList<>();
        if (!(v instanceof Map<?, ?> m)) throw PyError.typeError("Can only get item pairs from a mapping.");
        return Methods.items(m);
      }
      case "reverse": {
        if (v instanceof String s) return new StringBuilder(s).reverse().toString();
        if (!(v instanceof List || v instanceof Map || v instanceof Undefined)) {
          throw new PyError("FilterArgumentError", "argument must be iterable");
        }
        List<Object> l = new ArrayList<>(Py.iterate(v));
        java.util.Collections.reverse(l);
        return l;
      }
      case "int": return toInt(v, p.opt(0, "default", 0L), (int) Py.toLong(p.opt(1, "base", 10L)));
      case "float": return toFloat(v, p.opt(0, "default", 0.0));
      case "abs": {
        if (v instanceof Long l) return Math.abs(l);
        if (v instanceof Boolean b) return b ? 1L : 0L;
        if (v instanceof Double d) return Math.abs(d);
        throw PyError.typeError("bad operand type for abs(): '" + Py.typeName(v) + "'");
      }
      case "round": return round(v, (int) Py.toLong(p.opt(0, "precision", 0L)), Py.str(p.opt(1, "method", "common")));
      case "sum": {
        Object attribute = p.opt(0, "attribute", null);
        Object total = p.opt(1, "start", 0L);
        for (Object o : Py.iterate(v)) {
          total = in.binary("+", total, attribute == null ? o : in.attrPath(o, attribute, null));
        }
        return total;
      }
      case "max": case "min": {
        boolean cs = Py.truthy(p.opt(0, "case_sensitive", false));
        Object attribute = p.opt(1, "attribute", null);
        List<Object> l = Py.iterate(v);
        if (l.isEmpty()) return Undefined.hint("No aggregated item, sequence was empty.");
        Comparator<Object> cmp = sortKey(in, cs, attribute);
        Object best = l.get(0);
        for (Object o : l.subList(1, l.size())) {
          int c = cmp.compare(o, best);
          if (name.equals("max") ? c > 0 : c < 0) best = o;
        }
        return best;
      }
      case "sort": {
        boolean reverse = Py.truthy(p.opt(0, "reverse", false));
        boolean cs = Py.truthy(p.opt(1, "case_sensitive", false));
        Object attribute = p.opt(2, "attribute", null);
        List<Object> l = new ArrayList<>(Py.iterate(v));
        Comparator<Object> cmp = sortKey(in, cs, attribute);
        l.sort(reverse ? cmp.reversed() : cmp);
        return l;
      }
      case "dictsort": {
        if (v instanceof Undefined u) throw u.error();
        if (!(v instanceof Map<?, ?> m)) throw new PyError("AttributeError", "'" + Py.typeName(v) + "' object has no attribute 'items'");
        boolean cs = Py.truthy(p.opt(0, "case_sensitive", false));
        String by = Py.str(p.opt(1, "by", "key"));
        boolean reverse = Py.truthy(p.opt(2, "reverse", false));
        int pos = by.equals("key") ? 0 : by.equals("value") ? 1 : -1;
        if (pos < 0) throw new PyError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
        List<Object> l = Methods.items(m);
        Comparator<Object> cmp = (a, b) -> Py.compare(fold(((Tuple) a).get(pos), cs), fold(((Tuple) b).get(pos), cs), "<");
        l.sort(reverse ? cmp.reversed() : cmp);
        return l;
      }
      case "unique": {
        boolean cs = Py.truthy(p.opt(0, "case_sensitive", false));
        Object attribute = p.opt(1, "attribute", null);
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object o : Py.iterate(v)) {
          Object key = fold(attribute == null ? o : in.attrPath(o, attribute, null), cs);
          if (!Py.contains(seen, key)) {
            seen.add(key);
            out.add(o);
          }
        }
        return out;
      }
      case "map": {
        List<Object> out = new ArrayList<>();
        if (!Py.truthy(v)) return out;
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
          Object attribute = kwargs.get("attribute");
          Object dflt = kwargs.get("default");
          for (Object o : Py.iterate(v)) out.add(in.attrPath(o, attribute, dflt));
          return out;
        }
        if (args.isEmpty()) throw new PyError("FilterArgumentError", "map requires a filter argument");
        String filter = Py.str(args.get(0));
        if (!exists(filter)) throw new PyError("TemplateRuntimeError", "No filter named '" + filter + "'.");
        List<Object> rest = args.subList(1, args.size());
        for (Object o : Py.iterate(v)) out.add(apply(in, filter, o, rest, kwargs));
        return out;
      }
      case "select": case "reject": case "selectattr": case "rejectattr": {
        boolean attrMode = name.endsWith("attr");
        boolean keep = name.startsWith("select");
        int off = attrMode ? 1 : 0;
        Object attribute = attrMode ? p.req(0, "attribute") : null;
        String test = args.size() > off ? Py.str(args.get(off)) : null;
        List<Object> testArgs = args.size() > off + 1 ? args.subList(off + 1, args.size()) : List.of();
        if (test != null && !Tests.exists(test)) throw new PyError("TemplateRuntimeError", "No test named '" + test + "'.");
        List<Object> out = new ArrayList<>();
        if (!Py.truthy(v)) return out;
        for (Object o : Py.iterate(v)) {
          Object x = attrMode ? in.attrPath(o, attribute, null) : o;
          boolean ok = test == null ? Py.truthy(x) : Tests.apply(in, test, x, testArgs);
          if (ok == keep) out.add(o);
        }
        return out;
      }
      case "batch": {
        int size = (int) Py.toLong(p.req(0, "linecount"));
        Object fill = p.opt(1, "fill_with", null);
        List<Object> out = new ArrayList<>();
        List<Object> cur = new ArrayList<>();
        for (Object o : Py.iterate(v)) {
          cur.add(o);
          if (cur.size() == size) {
            out.add(cur);
            cur = new ArrayList<>();
          }
        }
        if (!cur.isEmpty()) {
          if (fill != null) while (cur.size() < size) cur.add(fill);
          out.add(cur);
        }
        return out;
      }
      case "attr": {
        String attribute = Py.str(p.req(0, "name"));
        if (v instanceof Map) {
          Object method = Methods.lookup(v, attribute);
          return method != null ? method : Undefined.attribute(v, attribute);
        }
        return in.getAttr(v, attribute);
      }
      default:
        throw new PyError("TemplateRuntimeError", "No filter named '" + name + "' found.");
    }
  }

  private static Object fold(Object v, boolean caseSensitive) {
    return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
  }

  private static Comparator<Object> sortKey(Interpreter in, boolean cs, Object attribute) {
    return (a, b) -> Py.compare(
        fold(attribute == null ? a : in.attrPath(a, attribute, null), cs),
        fold(attribute == null ? b : in.attrPath(b, attribute, null), cs), "<");
  }

  /** Jinja2's {@code title} filter: capitalises each word, words split at whitespace, -, (, {, [ and <. */
  static String title(String s) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      int j = i;
      boolean sep = isTitleSep(s.charAt(i));
      while (j < s.length() && isTitleSep(s.charAt(j)) == sep) j++;
      String part = s.substring(i, j);
      if (sep) {
        sb.append(part);
      } else {
        int first = Character.charCount(part.codePointAt(0));
        sb.append(part.substring(0, first).toUpperCase(Locale.ROOT)).append(part.substring(first).toLowerCase(Locale.ROOT));
      }
      i = j;
    }
    return sb.toString();
  }

  private static boolean isTitleSep(char c) {
    return Py.isSpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
  }

  static String indent(String s, Object width, boolean first, boolean blank) {
    String ind = width instanceof String w ? w : " ".repeat((int) Py.toLong(width));
    s += "\n";
    List<Object> lines = Methods.splitlines(s, false);
    StringBuilder rv = new StringBuilder();
    if (blank) {
      for (int i = 0; i < lines.size(); i++) {
        if (i > 0) rv.append('\n').append(ind);
        rv.append(lines.get(i));
      }
    } else {
      rv.append(lines.isEmpty() ? "" : (String) lines.get(0));
      if (lines.size() > 1) {
        rv.append('\n');
        for (int i = 1; i < lines.size(); i++) {
          if (i > 1) rv.append('\n');
          String line = (String) lines.get(i);
          rv.append(line.isEmpty() ? line : ind + line);
        }
      }
    }
    return first ? ind + rv : rv.toString();
  }

  static String escape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&': sb.append("&amp;"); break;
        case '<': sb.append("&lt;"); break;
        case '>': sb.append("&gt;"); break;
        case '"': sb.append("&#34;"); break;
        case '\'': sb.append("&#39;"); break;
        default: sb.append(c);
      }
    }
    return sb.toString();
  }

  private static Object toInt(Object v, Object dflt, int base) {
    try {
      if (v instanceof String s) {
        String t = Py.strip(s, null, true, true).replace("_", "");
        try {
          return Long.parseLong(t.startsWith("+") ? t.substring(1) : t, base);
        } catch (NumberFormatException e) {
          return (long) Double.parseDouble(t);
        }
      }
      if (v instanceof Double d) {
        if (d.isNaN() || d.isInfinite()) return dflt;
        return (long) (double) d;
      }
      if (v instanceof Long || v instanceof Boolean) return Py.toLong(v);
      if (v instanceof Undefined u) throw u.error();
      return dflt;
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static Object toFloat(Object v, Object dflt) {
    try {
      if (v instanceof String s) return Double.parseDouble(Py.strip(s, null, true, true));
      if (Py.isNumber(v)) return Py.toDouble(v);
      if (v instanceof Undefined u) throw u.error();
      return dflt;
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static long wordcount(String s) {
    long n = 0;
    boolean inWord = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean word = Character.isLetterOrDigit(c) || c == '_';
      if (word && !inWord) n++;
      inWord = word;
    }
    return n;
  }

  private static Object round(Object v, int precision, String method) {
    if (!Py.isNumber(v)) throw PyError.typeError("type " + Py.typeName(v) + " doesn't define __round__ method");
    if ((v instanceof Long || v instanceof Boolean) && method.equals("common") && precision >= 0) {
      return Py.toLong(v);
    }
    double d = Py.toDouble(v);
    double scale = Math.pow(10, precision);
    switch (method) {
      case "common":
        if (precision == 0) return Math.rint(d);
        return new java.math.BigDecimal(d).setScale(precision, java.math.RoundingMode.HALF_EVEN).doubleValue();
      case "ceil": return Math.ceil(d * scale) / scale;
      case "floor": return Math.floor(d * scale) / scale;
      default: throw new PyError("FilterArgumentError", "method must be common, ceil or floor");
    }
  }
}
