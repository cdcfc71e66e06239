package dev.art4j.template;

import dev.art4j.template.Node.*;
import java.math.BigInteger;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks a parsed template and writes its output, with Jinja2's scoping: a for loop's body gets
 * a fresh scope every iteration (so {@code set} inside a loop does not leak out, which is why
 * templates use {@code namespace}); {@code if} opens no scope; macros, call blocks, {@code with},
 * filter blocks and block sets each open one. Holds no per-render state: one instance renders
 * many times, from many threads.
 */
final class Interpreter {

  private static final int NORMAL = 0;
  private static final int BREAK = 1;
  private static final int CONTINUE = 2;
  private static final Object MISSING = new Object();
  private static final long MAX_RANGE = 100_000;

  private final Source source;
  private final Frame globals;

  Interpreter(Source source, Clock clock) {
    this.source = source;
    this.globals = new Frame(null, globals(clock));
  }

  /** A scope: variables set here, and the scope around it. */
  static final class Frame {
    final Frame parent;
    final Map<String, Object> vars;

    Frame(Frame parent) {
      this(parent, new HashMap<>(8));
    }

    Frame(Frame parent, Map<String, Object> vars) {
      this.parent = parent;
      this.vars = vars;
    }

    Object lookup(String name) {
      for (Frame f = this; f != null; f = f.parent) {
        Object v = f.vars.get(name);
        if (v != null || f.vars.containsKey(name)) {
          return v;
        }
      }
      return MISSING;
    }
  }

  String render(List<Stmt> body, Map<String, Object> context) {
    Frame top = new Frame(new Frame(globals, context));
    StringBuilder out = new StringBuilder(1024);
    exec(body, top, out);
    return out.toString();
  }

  // ---- statements ----

  private int exec(List<Stmt> body, Frame f, StringBuilder out) {
    for (int k = 0, n = body.size(); k < n; k++) {
      Stmt s = body.get(k);
      if (s instanceof Text t) {
        out.append(t.text());
        continue;
      }
      int signal;
      try {
        signal = execOne(s, f, out);
      } catch (PyError e) {
        throw source.error(e.type, e.getMessage(), s.pos());
      }
      if (signal != NORMAL) {
        return signal;
      }
    }
    return NORMAL;
  }

  private int execOne(Stmt s, Frame f, StringBuilder out) {
    if (s instanceof Output o) {
      Object v = eval(o.expr(), f);
      if (v instanceof String str) {
        out.append(str);
      } else {
        out.append(Py.str(v));
      }
      return NORMAL;
    }
    if (s instanceof If i) {
      List<Expr> tests = i.tests();
      for (int k = 0; k < tests.size(); k++) {
        if (Py.truthy(eval(tests.get(k), f))) {
          return exec(i.bodies().get(k), f, out);
        }
      }
      return exec(i.otherwise(), f, out);
    }
    if (s instanceof For loop) {
      return execFor(loop, f, out);
    }
    if (s instanceof Set set) {
      assign(set.target(), eval(set.value(), f), f);
      return NORMAL;
    }
    if (s instanceof Break) {
      return BREAK;
    }
    if (s instanceof Continue) {
      return CONTINUE;
    }
    if (s instanceof SetBlock sb) {
      StringBuilder captured = new StringBuilder();
      exec(sb.body(), new Frame(f), captured);
      Object value = captured.toString();
      if (sb.filter() != null) {
        value = evalFilter((Filter) sb.filter(), f, value);
      }
      assign(sb.target(), value, f);
      return NORMAL;
    }
    if (s instanceof Node.Macro m) {
      f.vars.put(m.def().name(), new Macro(m.def(), f));
      return NORMAL;
    }
    if (s instanceof CallBlock cb) {
      Macro caller = new Macro(cb.caller(), f);
      Object fn = eval(cb.call().target(), f);
      List<Object> args = new ArrayList<>();
      Map<String, Object> kwargs = new LinkedHashMap<>();
      evalArgs(cb.call().args(), f, args, kwargs);
      kwargs.put("caller", caller);
      out.append(Py.str(callValue(fn, args, kwargs)));
      return NORMAL;
    }
    if (s instanceof FilterBlock fb) {
      StringBuilder captured = new StringBuilder();
      exec(fb.body(), new Frame(f), captured);
      out.append(Py.str(evalFilter((Filter) fb.filter(), f, captured.toString())));
      return NORMAL;
    }
    if (s instanceof With w) {
      Frame wf = new Frame(f);
      for (int k = 0; k < w.targets().size(); k++) {
        assign(w.targets().get(k), eval(w.values().get(k), f), wf);
      }
      return exec(w.body(), wf, out);
    }
    throw new IllegalStateException("unknown statement " + s);
  }

  private int execFor(For loop, Frame f, StringBuilder out) {
    List<Object> items = Py.iterate(eval(loop.iter(), f));
    if (loop.filter() != null) {
      List<Object> kept = new ArrayList<>();
      for (Object item : items) {
        Frame tf = new Frame(f);
        assign(loop.target(), item, tf);
        if (Py.truthy(eval(loop.filter(), tf))) {
          kept.add(item);
        }
      }
      items = kept;
    }
    if (items.isEmpty()) {
      return exec(loop.otherwise(), new Frame(f), out);
    }
    LoopContext ctx = new LoopContext(items);
    for (int k = 0, n = items.size(); k < n; k++) {
      Frame itf = new Frame(f);
      assign(loop.target(), items.get(k), itf);
      itf.vars.put("loop", ctx);
      ctx.index0 = k;
      if (exec(loop.body(), itf, out) == BREAK) {
        break;
      }
    }
    return NORMAL;
  }

  private void assign(Expr target, Object value, Frame f) {
    if (target instanceof Name n) {
      f.vars.put(n.name(), value);
    } else if (target instanceof TupleExpr t) {
      List<Object> values = Py.iterate(value);
      int want = t.items().size();
      if (values.size() > want) {
        throw new PyError("ValueError", "too many values to unpack (expected " + want + ")");
      }
      if (values.size() < want) {
        throw new PyError("ValueError", "not enough values to unpack (expected " + want + ", got " + values.size() + ")");
      }
      for (int k = 0; k < want; k++) {
        assign(t.items().get(k), values.get(k), f);
      }
    } else if (target instanceof GetAttr ga && ga.target() instanceof Name ns) {
      Object o = f.lookup(ns.name());
      if (!(o instanceof Namespace namespace)) {
        throw new PyError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
      }
      namespace.attrs.put(ga.name(), value);
    } else {
      throw new PyError("TemplateSyntaxError", "cannot assign to " + target);
    }
  }

  // ---- expressions ----

  Object eval(Expr e, Frame f) {
    try {
      return evalInner(e, f);
    } catch (PyError err) {
      throw source.error(err.type, err.getMessage(), e.pos());
    }
  }

  private Object evalInner(Expr e, Frame f) {
    if (e instanceof Name n) {
      Object v = f.lookup(n.name());
      return v == MISSING ? Undefined.named(n.name()) : v;
    }
    if (e instanceof Const c) {
      return c.value();
    }
    if (e instanceof GetAttr ga) {
      return getAttr(eval(ga.target(), f), ga.name());
    }
    if (e instanceof GetItem gi) {
      Object target = eval(gi.target(), f);
      if (gi.key() instanceof Slice sl) {
        return Py.slice(target, optional(sl.start(), f), optional(sl.stop(), f), optional(sl.step(), f));
      }
      return getItem(target, eval(gi.key(), f));
    }
    if (e instanceof Binary b) {
      Object l = eval(b.left(), f);
      Object r = eval(b.right(), f);
      if (b.op().equals("~")) {
        return Py.str(l).concat(Py.str(r));
      }
      return binary(b.op(), l, r);
    }
    if (e instanceof Compare c) {
      return compare(c, f);
    }
    if (e instanceof And a) {
      Object l = eval(a.left(), f);
      return Py.truthy(l) ? eval(a.right(), f) : l;
    }
    if (e instanceof Or o) {
      Object l = eval(o.left(), f);
      return Py.truthy(l) ? l : eval(o.right(), f);
    }
    if (e instanceof Not n) {
      return !Py.truthy(eval(n.operand(), f));
    }
    if (e instanceof Call c) {
      return call(c, f);
    }
    if (e instanceof Filter fl) {
      return evalFilter(fl, f, null);
    }
    if (e instanceof Test t) {
      Object v = eval(t.value(), f);
      List<Object> args = new ArrayList<>();
      Map<String, Object> kwargs = new LinkedHashMap<>();
      evalArgs(t.args(), f, args, kwargs);
      return Tests.apply(this, t.name(), v, args);
    }
    if (e instanceof CondExpr c) {
      if (Py.truthy(eval(c.test(), f))) {
        return eval(c.then(), f);
      }
      if (c.otherwise() == null) {
        return Undefined.hint("the inline if-expression on line " + source.line(c.pos())
            + " evaluated to false and no else section was defined.");
      }
      return eval(c.otherwise(), f);
    }
    if (e instanceof ListExpr l) {
      List<Object> out = new ArrayList<>(l.items().size());
      for (Expr item : l.items()) {
        out.add(eval(item, f));
      }
      return out;
    }
    if (e instanceof TupleExpr t) {
      Object[] out = new Object[t.items().size()];
      for (int k = 0; k < out.length; k++) {
        out[k] = eval(t.items().get(k), f);
      }
      return new Tuple(out);
    }
    if (e instanceof DictExpr d) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (int k = 0; k < d.keys().size(); k++) {
        Object key = eval(d.keys().get(k), f);
        Py.hashableKey(key);
        out.put(key, eval(d.values().get(k), f));
      }
      return out;
    }
    if (e instanceof Unary u) {
      Object v = eval(u.operand(), f);
      if (v instanceof Undefined und) {
        throw und.error();
      }
      if (u.op().equals("+")) {
        if (!Py.isNumber(v)) {
          throw PyError.typeError("bad operand type for unary +: '" + Py.typeName(v) + "'");
        }
        return v instanceof Boolean ? (Object) Py.toLong(v) : v;
      }
      if (v instanceof Double d) {
        return -d;
      }
      if (v instanceof Long || v instanceof Boolean) {
        return -Py.toLong(v);
      }
      if (v instanceof BigInteger b) {
        return b.negate();
      }
      throw PyError.typeError("bad operand type for unary -: '" + Py.typeName(v) + "'");
    }
    throw new IllegalStateException("unknown expression " + e);
  }

  private Object optional(Expr e, Frame f) {
    return e == null ? null : eval(e, f);
  }

  private Object compare(Compare c, Frame f) {
    Object left = eval(c.first(), f);
    for (int k = 0; k < c.ops().size(); k++) {
      Object right = eval(c.rest().get(k), f);
      String op = c.ops().get(k);
      boolean ok;
      switch (op) {
        case "==": ok = Py.eq(left, right); break;
        case "!=": ok = !Py.eq(left, right); break;
        case "<": ok = Py.compare(left, right, op) < 0; break;
        case "<=": ok = Py.compare(left, right, op) <= 0; break;
        case ">": ok = Py.compare(left, right, op) > 0; break;
        case ">=": ok = Py.compare(left, right, op) >= 0; break;
        case "in": ok = Py.contains(right, left); break;
        default: ok = !Py.contains(right, left); break;
      }
      if (!ok) {
        return false;
      }
      left = right;
    }
    return true;
  }

  private Object evalFilter(Filter fl, Frame f, Object blockInput) {
    Object v;
    if (fl.value() == null) {
      v = blockInput;
    } else if (fl.value() instanceof Filter inner && blockInput != null) {
      v = evalFilter(inner, f, blockInput);
    } else {
      v = eval(fl.value(), f);
    }
    List<Object> args;
    Map<String, Object> kwargs;
    if (fl.args() == Args.NONE) {
      args = List.of();
      kwargs = Map.of();
    } else {
      args = new ArrayList<>();
      kwargs = new LinkedHashMap<>();
      evalArgs(fl.args(), f, args, kwargs);
    }
    try {
      return Filters.apply(this, fl.name(), v, args, kwargs);
    } catch (PyError err) {
      throw source.error(err.type, err.getMessage(), fl.pos());
    }
  }

  private void evalArgs(Args a, Frame f, List<Object> args, Map<String, Object> kwargs) {
    for (Expr e : a.positional()) {
      args.add(eval(e, f));
    }
    for (int k = 0; k < a.names().size(); k++) {
      kwargs.put(a.names().get(k), eval(a.values().get(k), f));
    }
    if (a.star() != null) {
      args.addAll(Py.iterate(eval(a.star(), f)));
    }
    if (a.starStar() != null) {
      Object m = eval(a.starStar(), f);
      if (!(m instanceof Map<?, ?> map)) {
        throw PyError.typeError("argument after ** must be a mapping, not " + Py.typeName(m));
      }
      for (Map.Entry<?, ?> en : map.entrySet()) {
        kwargs.put(Py.str(en.getKey()), en.getValue());
      }
    }
  }

  private Object call(Call c, Frame f) {
    Object fn;
    if (c.target() instanceof GetAttr ga) {
      Object receiver = eval(ga.target(), f);
      if (Methods.isMethod(receiver, ga.name())) {
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        evalArgs(c.args(), f, args, kwargs);
        return Methods.invoke(receiver, ga.name(), args, kwargs);
      }
      fn = getAttr(receiver, ga.name());
    } else {
      fn = eval(c.target(), f);
    }
    List<Object> args = new ArrayList<>();
    Map<String, Object> kwargs = new LinkedHashMap<>();
    evalArgs(c.args(), f, args, kwargs);
    return callValue(fn, args, kwargs);
  }

  private Object callValue(Object fn, List<Object> args, Map<String, Object> kwargs) {
    if (fn instanceof PyCallable pc) {
      return pc.call(this, args, kwargs);
    }
    if (fn instanceof Undefined u) {
      throw u.error();
    }
    throw PyError.typeError("'" + Py.typeName(fn) + "' object is not callable");
  }

  // ---- attribute and item access, as Jinja2's sandboxed getattr/getitem ----

  Object getAttr(Object obj, String name) {
    if (obj instanceof Map<?, ?> m) {
      Object method = Methods.lookup(obj, name);
      if (method != null) {
        return method;
      }
      Object v = m.get(name);
      return v != null || m.containsKey(name) ? v : Undefined.attribute(obj, name);
    }
    if (obj instanceof Undefined u) {
      throw u.error();
    }
    if (obj instanceof Namespace ns) {
      Object v = ns.attrs.get(name);
      return v != null || ns.attrs.containsKey(name) ? v : Undefined.attribute(obj, name);
    }
    if (obj instanceof LoopContext loop) {
      return loop.attribute(name);
    }
    Object method = Methods.lookup(obj, name);
    return method != null ? method : Undefined.attribute(obj, name);
  }

  Object getItem(Object obj, Object key) {
    if (obj instanceof Map<?, ?> m) {
      Object k = Py.dictKey(key);
      Object v = m.get(k);
      if (v != null || m.containsKey(k)) {
        return v;
      }
      if (key instanceof String s) {
        Object method = Methods.lookup(obj, s);
        if (method != null) {
          return method;
        }
      }
      return Undefined.element(obj, key);
    }
    if (obj instanceof List<?> l) {
      if (key instanceof Long || key instanceof Boolean) {
        long i = Py.toLong(key);
        if (i < 0) {
          i += l.size();
        }
        return i >= 0 && i < l.size() ? l.get((int) i) : Undefined.element(obj, key);
      }
    } else if (obj instanceof String s) {
      if (key instanceof Long || key instanceof Boolean) {
        long i = Py.toLong(key);
        boolean wide = Py.hasSurrogates(s);
        int n = wide ? s.codePointCount(0, s.length()) : s.length();
        if (i < 0) {
          i += n;
        }
        if (i < 0 || i >= n) {
          return Undefined.element(obj, key);
        }
        if (!wide) {
          return String.valueOf(s.charAt((int) i));
        }
        int at = s.offsetByCodePoints(0, (int) i);
        return s.substring(at, at + Character.charCount(s.codePointAt(at)));
      }
    } else if (obj instanceof Undefined u) {
      throw u.error();
    }
    if (key instanceof String s) {
      return getAttr(obj, s);
    }
    return Undefined.element(obj, key);
  }

  /** Jinja2's attribute getter for filters: {@code "a.b.0"} walks items, {@code default} replaces undefined. */
  Object attrPath(Object obj, Object attribute, Object dflt) {
    Object v = obj;
    if (attribute instanceof String s) {
      for (String part : s.split("\\.", -1)) {
        Object key = part;
        if (!part.isEmpty() && part.chars().allMatch(Character::isDigit)) {
          key = Long.parseLong(part);
        }
        v = getItem(v, key);
      }
    } else {
      v = getItem(v, attribute);
    }
    return dflt != null && v instanceof Undefined ? dflt : v;
  }

  // ---- arithmetic ----

  Object binary(String op, Object l, Object r) {
    if (l instanceof Undefined u) {
      throw u.error();
    }
    if (r instanceof Undefined u) {
      throw u.error();
    }
    boolean nums = Py.isNumber(l) && Py.isNumber(r);
    boolean ints = nums && !(l instanceof Double) && !(r instanceof Double);
    switch (op) {
      case "+":
        if (ints) {
          return addInts(l, r);
        }
        if (nums) {
          return Py.toDouble(l) + Py.toDouble(r);
        }
        if (l instanceof String a && r instanceof String b) {
          return a.concat(b);
        }
        if (l instanceof List<?> a && r instanceof List<?> b && (l instanceof Tuple == r instanceof Tuple)) {
          List<Object> out = new ArrayList<>(a);
          out.addAll(b);
          return l instanceof Tuple ? Tuple.of(out) : out;
        }
        if (l instanceof String || (l instanceof List && !(l instanceof Tuple))) {
          String t = l instanceof String ? "str" : "list";
          throw PyError.typeError("can only concatenate " + t + " (not \"" + Py.typeName(r) + "\") to " + t);
        }
        break;
      case "-":
        if (ints) {
          return subInts(l, r);
        }
        if (nums) {
          return Py.toDouble(l) - Py.toDouble(r);
        }
        break;
      case "*":
        if (ints) {
          return Py.toBig(l).multiply(Py.toBig(r)).bitLength() < 63 ? (Object) (Py.toLong(l) * Py.toLong(r)) : Py.toBig(l).multiply(Py.toBig(r));
        }
        if (nums) {
          return Py.toDouble(l) * Py.toDouble(r);
        }
        if ((l instanceof String || l instanceof List) && (r instanceof Long || r instanceof Boolean)) {
          return repeat(l, Py.toLong(r));
        }
        if ((r instanceof String || r instanceof List) && (l instanceof Long || l instanceof Boolean)) {
          return repeat(r, Py.toLong(l));
        }
        break;
      case "/":
        if (nums) {
          double d = Py.toDouble(r);
          if (d == 0) {
            throw new PyError("ZeroDivisionError", ints ? "division by zero" : "float division by zero");
          }
          return Py.toDouble(l) / d;
        }
        break;
      case "//":
        if (ints) {
          long b = Py.toLong(r);
          if (b == 0) {
            throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
          }
          return Math.floorDiv(Py.toLong(l), b);
        }
        if (nums) {
          double b = Py.toDouble(r);
          if (b == 0) {
            throw new PyError("ZeroDivisionError", "float floor division by zero");
          }
          return floatDivMod(Py.toDouble(l), b)[0];
        }
        break;
      case "%":
        if (l instanceof String s) {
          return Formatting.percent(s, r);
        }
        if (ints) {
          long b = Py.toLong(r);
          if (b == 0) {
            throw new PyError("ZeroDivisionError", "integer modulo by zero");
          }
          return Math.floorMod(Py.toLong(l), b);
        }
        if (nums) {
          double a = Py.toDouble(l);
          double b = Py.toDouble(r);
          if (b == 0) {
            throw new PyError("ZeroDivisionError", "float modulo");
          }
          return floatDivMod(a, b)[1];
        }
        break;
      case "**":
        if (ints && Py.toLong(r) >= 0) {
          BigInteger p = Py.toBig(l).pow((int) Py.toLong(r));
          return p.bitLength() < 63 ? (Object) p.longValue() : p;
        }
        if (nums) {
          return Math.pow(Py.toDouble(l), Py.toDouble(r));
        }
        break;
      default:
        break;
    }
    if (op.equals("*") && (isSequence(l) || isSequence(r))) {
      throw PyError.typeError("can't multiply sequence by non-int of type '" + Py.typeName(isSequence(l) ? r : l) + "'");
    }
    if (op.equals("+") && l instanceof Tuple) {
      throw PyError.typeError("can only concatenate tuple (not \"" + Py.typeName(r) + "\") to tuple");
    }
    String shown = op.equals("**") ? "** or pow()" : op;
    throw PyError.typeError("unsupported operand type(s) for " + shown + ": '" + Py.typeName(l) + "' and '" + Py.typeName(r) + "'");
  }

  private static boolean isSequence(Object v) {
    return v instanceof String || v instanceof List;
  }

  /** CPython's float {@code divmod}: floor quotient and a remainder with the divisor's sign. */
  private static double[] floatDivMod(double vx, double wx) {
    double mod = vx % wx;
    double div = (vx - mod) / wx;
    if (mod != 0) {
      if ((wx < 0) != (mod < 0)) {
        mod += wx;
        div -= 1.0;
      }
    } else {
      mod = Math.copySign(0.0, wx);
    }
    double floordiv;
    if (div != 0) {
      floordiv = Math.floor(div);
      if (div - floordiv > 0.5) {
        floordiv += 1.0;
      }
    } else {
      floordiv = Math.copySign(0.0, vx / wx);
    }
    return new double[] {floordiv, mod};
  }

  private static Object addInts(Object l, Object r) {
    if (l instanceof BigInteger || r instanceof BigInteger) {
      return Py.toBig(l).add(Py.toBig(r));
    }
    long a = Py.toLong(l);
    long b = Py.toLong(r);
    long s = a + b;
    return ((a ^ s) & (b ^ s)) < 0 ? (Object) BigInteger.valueOf(a).add(BigInteger.valueOf(b)) : (Object) s;
  }

  private static Object subInts(Object l, Object r) {
    if (l instanceof BigInteger || r instanceof BigInteger) {
      return Py.toBig(l).subtract(Py.toBig(r));
    }
    long a = Py.toLong(l);
    long b = Py.toLong(r);
    long s = a - b;
    return ((a ^ b) & (a ^ s)) < 0 ? (Object) BigInteger.valueOf(a).subtract(BigInteger.valueOf(b)) : (Object) s;
  }

  private static Object repeat(Object seq, long times) {
    if (seq instanceof String s) {
      return times <= 0 ? "" : s.repeat((int) times);
    }
    List<?> l = (List<?>) seq;
    List<Object> out = new ArrayList<>();
    for (long k = 0; k < times; k++) {
      out.addAll(l);
    }
    return seq instanceof Tuple ? Tuple.of(out) : out;
  }

  // ---- macros ----

  /** A macro (or the body of a call block, as {@code caller}): called, it renders its body to a string. */
  final class Macro implements PyCallable {
    private final MacroDef def;
    private final Frame closure;

    Macro(MacroDef def, Frame closure) {
      this.def = def;
      this.closure = closure;
    }

    @Override
    public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
      String name = def.name();
      List<String> params = def.params();
      List<Expr> defaults = def.defaults();
      Frame f = new Frame(closure);
      Map<String, Object> extra = new LinkedHashMap<>(kwargs);
      for (int k = 0; k < params.size(); k++) {
        String p = params.get(k);
        Object v;
        if (k < args.size()) {
          if (extra.containsKey(p)) {
            throw PyError.typeError("macro '" + name + "' got multiple values for argument '" + p + "'");
          }
          v = args.get(k);
        } else if (extra.containsKey(p)) {
          v = extra.remove(p);
        } else if (defaults.get(k) != null) {
          v = eval(defaults.get(k), f);
        } else {
          v = Undefined.hint("parameter '" + p + "' was not provided");
        }
        f.vars.put(p, v);
      }
      if (def.usesCaller() && !params.contains("caller")) {
        Object caller = extra.remove("caller");
        f.vars.put("caller", caller != null ? caller : Undefined.hint("No caller defined"));
      }
      if (def.usesKwargs()) {
        f.vars.put("kwargs", extra);
      } else if (!extra.isEmpty()) {
        if (extra.containsKey("caller")) {
          throw PyError.typeError("macro '" + name + "' was invoked with two values for the special caller argument."
              + " This is most likely a bug.");
        }
        throw PyError.typeError("macro '" + name + "' takes no keyword argument '" + extra.keySet().iterator().next() + "'");
      }
      if (def.usesVarargs()) {
        f.vars.put("varargs", args.size() > params.size() ? Tuple.of(new ArrayList<>(args.subList(params.size(), args.size()))) : new Tuple());
      } else if (args.size() > params.size()) {
        throw PyError.typeError("macro '" + name + "' takes not more than " + params.size() + " argument(s)");
      }
      StringBuilder out = new StringBuilder();
      exec(def.body(), f, out);
      return out.toString();
    }

    @Override
    public String describe() {
      return "<Macro '" + def.name() + "'>";
    }
  }

  // ---- globals ----

  private static Map<String, Object> globals(Clock clock) {
    Map<String, Object> g = new HashMap<>();
    g.put("range", builtin("range", (args, kwargs) -> range(args)));
    g.put("namespace", builtin("namespace", (args, kwargs) -> {
      Namespace ns = new Namespace();
      for (Object a : args) {
        if (!(a instanceof Map<?, ?> m)) {
          throw PyError.typeError("namespace() takes mappings and keyword arguments");
        }
        m.forEach((k, v) -> ns.attrs.put(Py.str(k), v));
      }
      ns.attrs.putAll(kwargs);
      return ns;
    }));
    g.put("dict", builtin("dict", (args, kwargs) -> {
      Map<Object, Object> d = new LinkedHashMap<>();
      for (Object a : args) {
        if (a instanceof Map<?, ?> m) {
          d.putAll(m);
        } else {
          for (Object pair : Py.iterate(a)) {
            List<Object> kv = Py.iterate(pair);
            d.put(kv.get(0), kv.get(1));
          }
        }
      }
      d.putAll(kwargs);
      return d;
    }));
    g.put("raise_exception", builtin("raise_exception", (args, kwargs) -> {
      throw new PyError("TemplateError", args.isEmpty() ? "" : Py.str(args.get(0)));
    }));
    g.put("strftime_now", builtin("strftime_now", (args, kwargs) -> {
      if (args.isEmpty() || !(args.get(0) instanceof String fmt)) {
        throw PyError.typeError("strftime_now() takes a format string");
      }
      return Strftime.format(LocalDateTime.now(clock), fmt);
    }));
    g.put("joiner", builtin("joiner", (args, kwargs) -> {
      String sep = args.isEmpty() ? Py.str(kwargs.getOrDefault("sep", ", ")) : Py.str(args.get(0));
      boolean[] used = {false};
      return builtin("joiner", (a, k) -> {
        if (!used[0]) {
          used[0] = true;
          return "";
        }
        return sep;
      });
    }));
    return Collections.unmodifiableMap(g);
  }

  private interface Body {
    Object apply(List<Object> args, Map<String, Object> kwargs);
  }

  private static PyCallable builtin(String name, Body body) {
    return new PyCallable() {
      @Override
      public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
        return body.apply(args, kwargs);
      }

      @Override
      public String describe() {
        return "<built-in function " + name + ">";
      }
    };
  }

  private static Object range(List<Object> args) {
    long start = 0;
    long stop;
    long step = 1;
    if (args.size() == 1) {
      stop = Py.toLong(args.get(0));
    } else if (args.size() == 2 || args.size() == 3) {
      start = Py.toLong(args.get(0));
      stop = Py.toLong(args.get(1));
      if (args.size() == 3) {
        step = Py.toLong(args.get(2));
      }
    } else {
      throw PyError.typeError("range expected at most 3 arguments, got " + args.size());
    }
    if (step == 0) {
      throw new PyError("ValueError", "range() arg 3 must not be zero");
    }
    List<Object> out = new ArrayList<>();
    for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() >= MAX_RANGE) {
        throw new PyError("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      }
      out.add(i);
    }
    return out;
  }
}
