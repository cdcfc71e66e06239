package dev.art4j.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods of str, dict and list that Jinja2's immutable sandbox lets templates call
 * ({@code message.content.startswith('<tool_response>')}, {@code d.items()}, ...). Methods that
 * would change a list or dict are refused with SecurityError, as the sandbox does.
 */
final class Methods {

  private Methods() {}

  private static final Set<String> STR = Set.of(
      "capitalize", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha", "isdecimal",
      "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip",
      "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rsplit", "rstrip", "split",
      "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill");
  private static final Set<String> DICT = Set.of("copy", "get", "items", "keys", "values");
  private static final Set<String> DICT_UNSAFE = Set.of("clear", "pop", "popitem", "setdefault", "update");
  private static final Set<String> LIST = Set.of("copy", "count", "index");
  private static final Set<String> LIST_UNSAFE = Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

  /** The attribute {@code name} of a str, dict or list when it is a method; null otherwise. */
  static Object lookup(Object receiver, String name) {
    if (receiver instanceof String) {
      return STR.contains(name) ? bound(receiver, name) : null;
    }
    if (receiver instanceof Map) {
      if (DICT.contains(name)) return bound(receiver, name);
      return DICT_UNSAFE.contains(name) ? Undefined.unsafe(receiver, name) : null;
    }
    if (receiver instanceof List && !(receiver instanceof Tuple)) {
      if (LIST.contains(name)) return bound(receiver, name);
      return LIST_UNSAFE.contains(name) ? Undefined.unsafe(receiver, name) : null;
    }
    if (receiver instanceof Tuple) {
      return name.equals("count") || name.equals("index") ? bound(receiver, name) : null;
    }
    return null;
  }

  static boolean isMethod(Object receiver, String name) {
    if (receiver instanceof String) return STR.contains(name);
    if (receiver instanceof Map) return DICT.contains(name);
    if (receiver instanceof List) return LIST.contains(name);
    return false;
  }

  private static PyCallable bound(Object receiver, String name) {
    return new PyCallable() {
      @Override
      public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
        return invoke(receiver, name, args, kwargs);
      }

      @Override
      public String describe() {
        return "<built-in method " + name + " of " + Py.typeName(receiver) + " object>";
      }
    };
  }

  static Object invoke(Object receiver, String name, List<Object> args, Map<String, Object> kwargs) {
    if (receiver instanceof String s) return str(s, name, new Params(name, args, kwargs));
    if (receiver instanceof Map<?, ?> m) return dict(m, name, new Params(name, args, kwargs));
    return list((List<?>) receiver, name, new Params(name, args, kwargs));
  }

  private static Object dict(Map<?, ?> m, String name, Params p) {
    switch (name) {
      case "get": {
        Object key = Py.hashableKey(p.req(0, "key"));
        Object dflt = p.opt(1, "default", null);
        p.done(2);
        return m.containsKey(key) ? m.get(key) : dflt;
      }
      case "keys": p.done(0); return new ArrayList<>(m.keySet());
      case "values": p.done(0); return new ArrayList<>(m.values());
      case "items": p.done(0); return items(m);
      case "copy": p.done(0); return new java.util.LinkedHashMap<>(m);
      default: throw new IllegalStateException(name);
    }
  }

  static List<Object> items(Map<?, ?> m) {
    List<Object> out = new ArrayList<>(m.size());
    for (Map.Entry<?, ?> e : m.entrySet()) {
      out.add(new Tuple(e.getKey(), e.getValue()));
    }
    return out;
  }

  private static Object list(List<?> l, String name, Params p) {
    switch (name) {
      case "count": {
        Object x = p.req(0, "value");
        p.done(1);
        long n = 0;
        for (Object o : l) if (Py.eq(o, x)) n++;
        return n;
      }
      case "index": {
        Object x = p.req(0, "value");
        p.done(1);
        for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), x)) return (long) i;
        throw new PyError("ValueError", Py.repr(x) + " is not in list");
      }
      case "copy": p.done(0); return new ArrayList<>(l);
      default: throw new IllegalStateException(name);
    }
  }

  private static Object str(String s, String name, Params p) {
    switch (name) {
      case "strip": case "lstrip": case "rstrip": {
        Object chars = p.opt(0, "chars", null);
        p.done(1);
        return Py.strip(s, chars == null ? null : p.string(chars), !name.equals("rstrip"), !name.equals("lstrip"));
      }
      case "split": case "rsplit": {
        Object sep = p.opt(0, "sep", null);
        long max = Py.toLong(p.opt(1, "maxsplit", -1L));
        p.done(2);
        return split(s, sep == null ? null : p.string(sep), (int) max, name.equals("rsplit"));
      }
      case "startswith": case "endswith": {
        Object prefix = p.req(0, name.equals("startswith") ? "prefix" : "suffix");
        p.done(1);
        List<Object> options = prefix instanceof Tuple t ? t : List.of(prefix);
        for (Object o : options) {
          if (!(o instanceof String x)) {
            throw PyError.typeError(name + " first arg must be str or a tuple of str, not " + Py.typeName(o));
          }
          if (name.equals("startswith") ? s.startsWith(x) : s.endsWith(x)) return true;
        }
        return false;
      }
      case "upper": p.done(0); return s.toUpperCase(java.util.Locale.ROOT);
      case "lower": p.done(0); return s.toLowerCase(java.util.Locale.ROOT);
      case "title": p.done(0); return title(s);
      case "capitalize": p.done(0); return capitalize(s);
      case "swapcase": {
        p.done(0);
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.appendCodePoint(Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c)));
        return sb.toString();
      }
      case "replace": {
        String old = p.string(p.req(0, "old"));
        String neu = p.string(p.req(1, "new"));
        long count = Py.toLong(p.opt(2, "count", -1L));
        p.done(3);
        return replace(s, old, neu, count);
      }
      case "find": case "rfind": case "index": case "rindex": case "count": {
        String sub = p.string(p.req(0, "sub"));
        p.done(1);
        if (name.equals("count")) {
          if (sub.isEmpty()) return (long) Py.codePointLength(s) + 1;
          long n = 0;
          for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
          return n;
        }
        int i = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
        if (i < 0 && name.endsWith("index")) throw new PyError("ValueError", "substring not found");
        return i < 0 ? -1L : (long) s.codePointCount(0, i);
      }
      case "join": {
        Object it = p.req(0, "iterable");
        p.done(1);
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object o : Py.iterate(it)) {
          if (!(o instanceof String x)) {
            throw PyError.typeError("sequence item: expected str instance, " + Py.typeName(o) + " found");
          }
          if (!first) sb.append(s);
          first = false;
          sb.append(x);
        }
        return sb.toString();
      }
      case "splitlines": {
        boolean keep = Py.truthy(p.opt(0, "keepends", false));
        p.done(1);
        return splitlines(s, keep);
      }
      case "removeprefix": {
        String x = p.string(p.req(0, "prefix"));
        p.done(1);
        return s.startsWith(x) ? s.substring(x.length()) : s;
      }
      case "removesuffix": {
        String x = p.string(p.req(0, "suffix"));
        p.done(1);
        return !x.isEmpty() && s.endsWith(x) ? s.substring(0, s.length() - x.length()) : s;
      }
      case "isalnum": case "isalpha": case "isdigit": case "isdecimal": case "isnumeric": case "isspace":
      case "islower": case "isupper": case "istitle":
        p.done(0);
        return charClass(s, name);
      case "center": case "ljust": case "rjust": {
        int width = (int) Py.toLong(p.req(0, "width"));
        String fill = p.string(p.opt(1, "fillchar", " "));
        p.done(2);
        return pad(s, width, fill, name);
      }
      case "zfill": {
        int width = (int) Py.toLong(p.req(0, "width"));
        p.done(1);
        int n = Py.codePointLength(s);
        if (n >= width) return s;
        String sign = !s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-') ? s.substring(0, 1) : "";
        return sign + "0".repeat(width - n) + s.substring(sign.length());
      }
      case "format": return Formatting.format(s, p.args, p.kwargs);
      default: throw new IllegalStateException(name);
    }
  }

  static String replace(String s, String old, String neu, long count) {
    if (count < 0) {
      if (old.isEmpty()) {
        StringBuilder sb = new StringBuilder(neu);
        for (Object c : Py.chars(s)) sb.append(c).append(neu);
        return sb.toString();
      }
      return s.replace(old, neu);
    }
    StringBuilder sb = new StringBuilder();
    int from = 0;
    long done = 0;
    if (old.isEmpty()) {
      List<Object> cs = Py.chars(s);
      for (int i = 0; i < cs.size(); i++) {
        if (done < count) {
          sb.append(neu);
          done++;
        }
        sb.append(cs.get(i));
      }
      if (done < count) sb.append(neu);
      return sb.toString();
    }
    while (done < count) {
      int i = s.indexOf(old, from);
      if (i < 0) break;
      sb.append(s, from, i).append(neu);
      from = i + old.length();
      done++;
    }
    return sb.append(s.substring(from)).toString();
  }

  static List<Object> split(String s, String sep, int max, boolean fromRight) {
    List<Object> out = new ArrayList<>();
    if (sep == null) {
      // runs of whitespace, no empty strings
      List<int[]> words = new ArrayList<>();
      int i = 0;
      while (i < s.length()) {
        while (i < s.length() && Py.isSpace(s.charAt(i))) i++;
        if (i >= s.length()) break;
        int j = i;
        while (j < s.length() && !Py.isSpace(s.charAt(j))) j++;
        words.add(new int[] {i, j});
        i = j;
      }
      if (max < 0 || words.size() <= max + 1) {
        for (int[] w : words) out.add(s.substring(w[0], w[1]));
        return out;
      }
      if (!fromRight) {
        for (int k = 0; k < max; k++) out.add(s.substring(words.get(k)[0], words.get(k)[1]));
        out.add(s.substring(words.get(max)[0]));
      } else {
        int firstKept = words.size() - max;
        out.add(s.substring(0, words.get(firstKept - 1)[1]));
        for (int k = firstKept; k < words.size(); k++) out.add(s.substring(words.get(k)[0], words.get(k)[1]));
      }
      return out;
    }
    if (sep.isEmpty()) throw new PyError("ValueError", "empty separator");
    List<String> parts = new ArrayList<>();
    int from = 0;
    for (int i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, from)) {
      parts.add(s.substring(from, i));
      from = i + sep.length();
    }
    parts.add(s.substring(from));
    if (max < 0 || parts.size() <= max + 1) {
      out.addAll(parts);
      return out;
    }
    if (!fromRight) {
      for (int k = 0; k < max; k++) out.add(parts.get(k));
      out.add(String.join(sep, parts.subList(max, parts.size())));
    } else {
      int keep = parts.size() - max;
      out.add(String.join(sep, parts.subList(0, keep)));
      out.addAll(parts.subList(keep, parts.size()));
    }
    return out;
  }

  static List<Object> splitlines(String s, boolean keepEnds) {
    List<Object> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      int eol = 0;
      if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
        eol = 2;
      } else if (c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d'
          || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
        eol = 1;
      }
      if (eol > 0) {
        out.add(s.substring(start, keepEnds ? i + eol : i));
        i += eol;
        start = i;
      } else {
        i++;
      }
    }
    if (start < s.length()) out.add(s.substring(start));
    return out;
  }

  /** Python's {@code str.title()}: a cased letter after an uncased character is upper-cased. */
  static String title(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean prevCased = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
      sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c)) : c);
      prevCased = cased;
    }
    return sb.toString();
  }

  static String capitalize(String s) {
    if (s.isEmpty()) return s;
    int c = s.codePointAt(0);
    int n = Character.charCount(c);
    return new StringBuilder().appendCodePoint(Character.toTitleCase(c)).append(s.substring(n).toLowerCase(java.util.Locale.ROOT)).toString();
  }

  private static boolean charClass(String s, String name) {
    if (s.isEmpty()) return false;
    if (name.equals("islower") || name.equals("isupper")) {
      boolean anyCased = false;
      for (int c : s.codePoints().toArray()) {
        if (Character.isUpperCase(c) || Character.isTitleCase(c)) {
          if (name.equals("islower")) return false;
          anyCased = true;
        } else if (Character.isLowerCase(c)) {
          if (name.equals("isupper")) return false;
          anyCased = true;
        }
      }
      return anyCased;
    }
    if (name.equals("istitle")) return title(s).equals(s) && !s.toLowerCase().equals(s.toUpperCase());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok;
      switch (name) {
        case "isalnum": ok = Character.isLetterOrDigit(c); break;
        case "isalpha": ok = Character.isLetter(c); break;
        case "isspace": ok = Py.isSpace(c); break;
        default: ok = Character.isDigit(c); break;
      }
      if (!ok) return false;
    }
    return true;
  }

  static String pad(String s, int width, String fill, String how) {
    int n = Py.codePointLength(s);
    if (n >= width) return s;
    int total = width - n;
    int left;
    switch (how) {
      case "ljust": left = 0; break;
      case "rjust": left = total; break;
      default: left = total / 2 + (total & width & 1); break;
    }
    return fill.repeat(left) + s + fill.repeat(total - left);
  }

  /** Positional-or-keyword argument access with Python's error messages. */
  static final class Params {
    final String fn;
    final List<Object> args;
    final Map<String, Object> kwargs;

    Params(String fn, List<Object> args, Map<String, Object> kwargs) {
      this.fn = fn;
      this.args = args;
      this.kwargs = kwargs;
    }

    Object opt(int i, String name, Object dflt) {
      if (i < args.size()) return args.get(i);
      if (kwargs.containsKey(name)) return kwargs.get(name);
      return dflt;
    }

    Object req(int i, String name) {
      if (i < args.size()) return args.get(i);
      if (kwargs.containsKey(name)) return kwargs.get(name);
      throw PyError.typeError(fn + "() missing required argument '" + name + "' (pos " + (i + 1) + ")");
    }

    void done(int max) {
      if (args.size() > max) {
        throw PyError.typeError(fn + "() takes at most " + max + " argument" + (max == 1 ? "" : "s") + " (" + args.size() + " given)");
      }
    }

    String string(Object v) {
      if (v instanceof String s) return s;
      if (v instanceof Undefined u) throw u.error();
      throw PyError.typeError("must be str, not " + Py.typeName(v));
    }
  }
}
