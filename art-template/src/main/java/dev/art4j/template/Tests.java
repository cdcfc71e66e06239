package dev.art4j.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's built-in tests ({@code x is defined}, {@code x is string}, ...), with Python's type rules. */
final class Tests {

  private Tests() {}

  private static final Set<String> NAMES = Set.of(
      "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "filter",
      "float", "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<",
      "lessthan", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test", "true",
      "undefined", "upper");

  static boolean exists(String name) {
    return NAMES.contains(name);
  }

  static boolean apply(Interpreter in, String name, Object v, List<Object> args) {
    switch (name) {
      case "defined": return !(v instanceof Undefined);
      case "undefined": return v instanceof Undefined;
      case "none": return v == null;
      case "boolean": return v instanceof Boolean;
      case "true": return Boolean.TRUE.equals(v);
      case "false": return Boolean.FALSE.equals(v);
      case "integer": return Py.isInt(v);
      case "float": return v instanceof Double;
      case "number": return Py.isNumber(v);
      case "string": return v instanceof String;
      case "mapping": return v instanceof Map;
      case "iterable": return v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
      case "sequence": return v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
      case "callable": return v instanceof PyCallable;
      case "escaped": return false;
      case "lower": return (Boolean) Methods.invoke(Py.str(v), "islower", List.of(), Map.of());
      case "upper": return (Boolean) Methods.invoke(Py.str(v), "isupper", List.of(), Map.of());
      case "odd": return Py.eq(in.binary("%", v, 2L), 1L);
      case "even": return Py.eq(in.binary("%", v, 2L), 0L);
      case "divisibleby": return Py.eq(in.binary("%", v, arg(args, name)), 0L);
      case "eq": case "equalto": case "==": return Py.eq(v, arg(args, name));
      case "ne": case "!=": return !Py.eq(v, arg(args, name));
      case "lt": case "<": case "lessthan": return Py.compare(v, arg(args, name), "<") < 0;
      case "le": case "<=": return Py.compare(v, arg(args, name), "<=") <= 0;
      case "gt": case ">": case "greaterthan": return Py.compare(v, arg(args, name), ">") > 0;
      case "ge": case ">=": return Py.compare(v, arg(args, name), ">=") >= 0;
      case "in": return Py.contains(arg(args, name), v);
      case "sameas": {
        Object o = arg(args, name);
        return v == o || (v instanceof Boolean && v.equals(o));
      }
      case "filter": return v instanceof String s && Filters.exists(s);
      case "test": return v instanceof String s && exists(s);
      default: throw new PyError("TemplateRuntimeError", "No test named '" + name + "' found.");
    }
  }

  private static Object arg(List<Object> args, String test) {
    if (args.isEmpty()) {
      throw PyError.typeError("test '" + test + "' needs an argument");
    }
    return args.get(0);
  }
}
