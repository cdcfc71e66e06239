package dev.art4j.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's semantics for the values templates handle, which is what Jinja2 inherits:
 * None is {@code null}, bool {@link Boolean}, int {@link Long} (or {@link BigInteger}), float
 * {@link Double}, str {@link String} (indexed by code point), list {@link List}, tuple
 * {@link Tuple}, dict {@link Map} (insertion-ordered). Truthiness, {@code str()}, {@code repr()},
 * equality, ordering, {@code in} and iteration follow CPython.
 */
final class Py {

  private Py() {}

  // ---- type names ----

  static String typeName(Object v) {
    if (v == null) return "NoneType";
    if (v instanceof Boolean) return "bool";
    if (v instanceof Long || v instanceof BigInteger) return "int";
    if (v instanceof Double) return "float";
    if (v instanceof String) return "str";
    if (v instanceof Tuple) return "tuple";
    if (v instanceof List) return "list";
    if (v instanceof Map) return "dict";
    if (v instanceof Undefined) return "Undefined";
    if (v instanceof Namespace) return "Namespace";
    if (v instanceof LoopContext) return "LoopContext";
    if (v instanceof Interpreter.Macro) return "Macro";
    if (v instanceof PyCallable) return "builtin_function_or_method";
    return v.getClass().getSimpleName();
  }

  /** Jinja2's {@code object_type_repr}, used in "has no attribute" messages. */
  static String objectTypeRepr(Object v) {
    if (v == null) return "None";
    if (v instanceof Namespace) return "jinja2.utils.Namespace object";
    if (v instanceof LoopContext) return "jinja2.runtime.LoopContext object";
    if (v instanceof Interpreter.Macro) return "jinja2.runtime.Macro object";
    return typeName(v) + " object";
  }

  static boolean isInt(Object v) {
    return v instanceof Long || v instanceof BigInteger;
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double || v instanceof Boolean || v instanceof BigInteger;
  }

  // ---- truthiness ----

  static boolean truthy(Object v) {
    if (v == null) return false;
    if (v instanceof Boolean b) return b;
    if (v instanceof String s) return !s.isEmpty();
    if (v instanceof Long l) return l != 0;
    if (v instanceof Double d) return d != 0.0;
    if (v instanceof Collection<?> c) return !c.isEmpty();
    if (v instanceof Map<?, ?> m) return !m.isEmpty();
    if (v instanceof Undefined u) {
      if (u.unsafe) throw u.error();
      return false;
    }
    if (v instanceof BigInteger b) return b.signum() != 0;
    return true;
  }

  // ---- str() and repr() ----

  static String str(Object v) {
    if (v instanceof String s) return s;
    if (v == null) return "None";
    if (v instanceof Boolean b) return b ? "True" : "False";
    if (v instanceof Long || v instanceof BigInteger) return v.toString();
    if (v instanceof Double d) return floatRepr(d);
    if (v instanceof Undefined) return "";
    StringBuilder sb = new StringBuilder();
    repr(v, sb);
    return sb.toString();
  }

  static String repr(Object v) {
    StringBuilder sb = new StringBuilder();
    repr(v, sb);
    return sb.toString();
  }

  static void repr(Object v, StringBuilder sb) {
    if (v instanceof String s) {
      stringRepr(s, sb);
    } else if (v instanceof Tuple t) {
      sb.append('(');
      for (int i = 0; i < t.size(); i++) {
        if (i > 0) sb.append(", ");
        repr(t.get(i), sb);
      }
      sb.append(t.size() == 1 ? ",)" : ")");
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) sb.append(", ");
        repr(l.get(i), sb);
      }
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) sb.append(", ");
        first = false;
        repr(e.getKey(), sb);
        sb.append(": ");
        repr(e.getValue(), sb);
      }
      sb.append('}');
    } else if (v instanceof Undefined) {
      sb.append("Undefined");
    } else if (v instanceof PyCallable c) {
      sb.append(c.describe());
    } else if (v instanceof Namespace || v instanceof LoopContext) {
      sb.append(v);
    } else {
      sb.append(str(v));
    }
  }

  /** Python's {@code repr(str)}: single quotes unless the text has ' and no ". */
  static void stringRepr(String s, StringBuilder sb) {
    char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    sb.append(q);
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c == q || c == '\\') {
        sb.append('\\').appendCodePoint(c);
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", c));
      } else if (!isPrintable(c)) {
        sb.append(c <= 0xff ? String.format("\\x%02x", c) : c <= 0xffff ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
      } else {
        sb.appendCodePoint(c);
      }
    }
    sb.append(q);
  }

  private static boolean isPrintable(int c) {
    if (c == ' ') return true;
    int t = Character.getType(c);
    switch (t) {
      case Character.CONTROL: case Character.FORMAT: case Character.SURROGATE: case Character.PRIVATE_USE:
      case Character.UNASSIGNED: case Character.LINE_SEPARATOR: case Character.PARAGRAPH_SEPARATOR:
      case Character.SPACE_SEPARATOR:
        return false;
      default:
        return true;
    }
  }

  /** Python's {@code repr(float)}: the shortest digits that read back to the same double. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "nan";
    if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
    if (d == Math.rint(d) && Math.abs(d) < 1e16) {
      return Long.toString((long) d) + ".0";
    }
    BigDecimal exact = new BigDecimal(Math.abs(d));
    BigDecimal shortest = exact;
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == Math.abs(d)) {
        shortest = r;
        break;
      }
    }
    shortest = shortest.stripTrailingZeros();
    String digits = shortest.unscaledValue().toString();
    int exp = digits.length() - 1 - shortest.scale();
    StringBuilder sb = new StringBuilder();
    if (d < 0) sb.append('-');
    if (exp >= -4 && exp < 16) {
      if (exp >= 0) {
        if (digits.length() <= exp + 1) {
          sb.append(digits).append("0".repeat(exp + 1 - digits.length())).append(".0");
        } else {
          sb.append(digits, 0, exp + 1).append('.').append(digits, exp + 1, digits.length());
        }
      } else {
        sb.append("0.").append("0".repeat(-exp - 1)).append(digits);
      }
    } else {
      sb.append(digits.charAt(0));
      if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
      sb.append('e').append(exp < 0 ? '-' : '+');
      int a = Math.abs(exp);
      if (a < 10) sb.append('0');
      sb.append(a);
    }
    return sb.toString();
  }

  // ---- equality and ordering ----

  static boolean eq(Object a, Object b) {
    if (a == b) return true;
    if (a == null || b == null) return false;
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) return toDouble(a) == toDouble(b);
      if (a instanceof BigInteger || b instanceof BigInteger) return toBig(a).equals(toBig(b));
      return toLong(a) == toLong(b);
    }
    if (a instanceof String) return a.equals(b);
    if (a instanceof Tuple != b instanceof Tuple) return false;
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); i++) {
        if (!eq(x.get(i), y.get(i))) return false;
      }
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) return false;
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
      }
      return true;
    }
    if (a instanceof Undefined && b instanceof Undefined) return true;
    return false;
  }

  /** Python's {@code <} family; op is the operator for the error message. */
  static int compare(Object a, Object b, String op) {
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) return Double.compare(toDouble(a), toDouble(b)) ;
      if (a instanceof BigInteger || b instanceof BigInteger) return toBig(a).compareTo(toBig(b));
      return Long.compare(toLong(a), toLong(b));
    }
    if (a instanceof String x && b instanceof String y) {
      return compareCodePoints(x, y);
    }
    if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof Tuple == b instanceof Tuple)) {
      for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
        if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i), op);
      }
      return Integer.compare(x.size(), y.size());
    }
    if (a instanceof Undefined u) throw u.error();
    if (b instanceof Undefined u) throw u.error();
    throw PyError.typeError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
  }

  static int compareCodePoints(String x, String y) {
    int i = 0;
    int j = 0;
    while (i < x.length() && j < y.length()) {
      int a = x.codePointAt(i);
      int b = y.codePointAt(j);
      if (a != b) return Integer.compare(a, b);
      i += Character.charCount(a);
      j += Character.charCount(b);
    }
    return Integer.compare(x.length() - i, y.length() - j);
  }

  static boolean contains(Object container, Object item) {
    if (container instanceof String s) {
      if (!(item instanceof String t)) {
        throw PyError.typeError("'in <string>' requires string as left operand, not " + typeName(item));
      }
      return s.contains(t);
    }
    if (container instanceof List<?> l) {
      for (Object o : l) {
        if (eq(o, item)) return true;
      }
      return false;
    }
    if (container instanceof Map<?, ?> m) {
      return m.containsKey(hashableKey(item));
    }
    if (container instanceof Undefined) return false;
    throw PyError.typeError("argument of type '" + typeName(container) + "' is not iterable");
  }

  /** A dict key, refusing what Python cannot hash (lists and dicts). */
  static Object hashableKey(Object k) {
    if ((k instanceof List && !(k instanceof Tuple)) || k instanceof Map) {
      throw PyError.typeError("unhashable type: '" + typeName(k) + "'");
    }
    return dictKey(k);
  }

  /** Python's hash equality makes 1, 1.0 and True the same dict key; JSON and templates mostly use str keys. */
  static Object dictKey(Object k) {
    if (k instanceof Boolean b) return b ? 1L : 0L;
    if (k instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) return (long) (double) d;
    return k;
  }

  // ---- numbers ----

  static long toLong(Object v) {
    if (v instanceof Long l) return l;
    if (v instanceof Boolean b) return b ? 1 : 0;
    if (v instanceof Double d) return (long) (double) d;
    if (v instanceof BigInteger b) return b.longValue();
    throw PyError.typeError("an integer is required, got '" + typeName(v) + "'");
  }

  static double toDouble(Object v) {
    if (v instanceof Double d) return d;
    if (v instanceof Long l) return l;
    if (v instanceof Boolean b) return b ? 1 : 0;
    if (v instanceof BigInteger b) return b.doubleValue();
    throw PyError.typeError("must be real number, not " + typeName(v));
  }

  static BigInteger toBig(Object v) {
    if (v instanceof BigInteger b) return b;
    return BigInteger.valueOf(toLong(v));
  }

  /** An index argument: int or bool, as Python's {@code __index__}. */
  static int index(Object v, String what) {
    if (v instanceof Long || v instanceof Boolean) {
      long l = toLong(v);
      return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
    }
    throw PyError.typeError(what + " indices must be integers or slices, not " + typeName(v));
  }

  // ---- sequences ----

  /** Materialises what a for loop iterates: list items, dict keys, string characters. */
  static List<Object> iterate(Object v) {
    if (v instanceof List<?> l) {
      @SuppressWarnings("unchecked")
      List<Object> list = (List<Object>) l;
      return list;
    }
    if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
    if (v instanceof String s) return chars(s);
    if (v instanceof Undefined u) {
      if (u.unsafe) throw u.error();
      return List.of();
    }
    if (v instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      for (Iterator<?> i = it.iterator(); i.hasNext(); ) out.add(i.next());
      return out;
    }
    throw PyError.typeError("'" + typeName(v) + "' object is not iterable");
  }

  static List<Object> chars(String s) {
    List<Object> out = new ArrayList<>(s.length());
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      int n = Character.charCount(c);
      out.add(s.substring(i, i + n));
      i += n;
    }
    return out;
  }

  static boolean hasSurrogates(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isSurrogate(s.charAt(i))) return true;
    }
    return false;
  }

  static int codePointLength(String s) {
    return hasSurrogates(s) ? s.codePointCount(0, s.length()) : s.length();
  }

  static int len(Object v) {
    if (v instanceof String s) return codePointLength(s);
    if (v instanceof Collection<?> c) return c.size();
    if (v instanceof Map<?, ?> m) return m.size();
    if (v instanceof Undefined) return 0;
    throw PyError.typeError("object of type '" + typeName(v) + "' has no len()");
  }

  /** Python's slice.indices(): the start, stop and step a slice selects from a sequence of length n. */
  static int[] sliceIndices(Object start, Object stop, Object step, int n) {
    long st = step == null ? 1 : toLong(checkSliceArg(step));
    if (st == 0) throw new PyError("ValueError", "slice step cannot be zero");
    long lower = st < 0 ? -1 : 0;
    long upper = st < 0 ? n - 1 : n;
    long a;
    long b;
    if (start == null) {
      a = st < 0 ? upper : lower;
    } else {
      a = toLong(checkSliceArg(start));
      a = a < 0 ? Math.max(a + n, lower) : Math.min(a, upper);
    }
    if (stop == null) {
      b = st < 0 ? lower : upper;
    } else {
      b = toLong(checkSliceArg(stop));
      b = b < 0 ? Math.max(b + n, lower) : Math.min(b, upper);
    }
    return new int[] {(int) a, (int) b, (int) st};
  }

  private static Object checkSliceArg(Object v) {
    if (v instanceof Long || v instanceof Boolean) return v;
    throw PyError.typeError("slice indices must be integers or None or have an __index__ method");
  }

  static Object slice(Object seq, Object start, Object stop, Object step) {
    if (seq instanceof String s) {
      boolean wide = hasSurrogates(s);
      List<Object> cps = wide ? chars(s) : null;
      int n = wide ? cps.size() : s.length();
      int[] r = sliceIndices(start, stop, step, n);
      StringBuilder sb = new StringBuilder();
      for (int i = r[0]; r[2] > 0 ? i < r[1] : i > r[1]; i += r[2]) {
        if (wide) sb.append((String) cps.get(i)); else sb.append(s.charAt(i));
      }
      return sb.toString();
    }
    if (seq instanceof List<?> l) {
      int[] r = sliceIndices(start, stop, step, l.size());
      List<Object> out = new ArrayList<>();
      for (int i = r[0]; r[2] > 0 ? i < r[1] : i > r[1]; i += r[2]) out.add(l.get(i));
      return seq instanceof Tuple ? Tuple.of(out) : out;
    }
    if (seq instanceof Undefined u) throw u.error();
    // Jinja2 compiles a slice to a plain Python subscript, so there is no undefined fallback
    if (seq instanceof Map) throw PyError.typeError("unhashable type: 'slice'");
    throw PyError.typeError("'" + typeName(seq) + "' object is not subscriptable");
  }

  // ---- strings ----

  /** Python's {@code str.isspace()} for one character. */
  static boolean isSpace(char c) {
    switch (c) {
      case ' ': case '\t': case '\n': case '\u000b': case '\f': case '\r':
      case '\u001c': case '\u001d': case '\u001e': case '\u001f': case '\u0085': case '\u00a0':
      case '\u1680': case '\u2028': case '\u2029': case '\u202f': case '\u205f': case '\u3000':
        return true;
      default:
        return c >= '\u2000' && c <= '\u200a';
    }
  }

  static String strip(String s, String chars, boolean left, boolean right) {
    int a = 0;
    int b = s.length();
    if (left) {
      while (a < b && stripped(s.charAt(a), chars)) a++;
    }
    if (right) {
      while (b > a && stripped(s.charAt(b - 1), chars)) b--;
    }
    return s.substring(a, b);
  }

  private static boolean stripped(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  static String rstrip(String s) {
    return strip(s, null, false, true);
  }
}
