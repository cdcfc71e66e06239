package dev.art4j.template;

import java.util.List;
import java.util.Map;

/**
 * The {@code loop} variable inside a for loop: {@code index}, {@code index0}, {@code revindex},
 * {@code revindex0}, {@code first}, {@code last}, {@code length}, {@code previtem},
 * {@code nextitem}, {@code depth}, {@code depth0}, {@code cycle(...)} and {@code changed(...)}.
 * One instance per loop, advanced in place each iteration.
 */
final class LoopContext {

  private final List<Object> items;
  int index0;
  private List<Object> lastChanged;

  LoopContext(List<Object> items) {
    this.items = items;
  }

  Object attribute(String name) {
    int n = items.size();
    switch (name) {
      case "index": return (long) index0 + 1;
      case "index0": return (long) index0;
      case "revindex": return (long) (n - index0);
      case "revindex0": return (long) (n - index0 - 1);
      case "first": return index0 == 0;
      case "last": return index0 == n - 1;
      case "length": return (long) n;
      case "depth": return 1L;
      case "depth0": return 0L;
      case "previtem":
        return index0 > 0 ? items.get(index0 - 1) : Undefined.hint("there is no previous item");
      case "nextitem":
        return index0 < n - 1 ? items.get(index0 + 1) : Undefined.hint("there is no next item");
      case "cycle": return cycle;
      case "changed": return changed;
      default: return Undefined.attribute(this, name);
    }
  }

  private final PyCallable cycle = new PyCallable() {
    @Override
    public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
      if (args.isEmpty()) {
        throw PyError.typeError("no items for cycling given");
      }
      return args.get(index0 % args.size());
    }

    @Override
    public String describe() {
      return "<bound method LoopContext.cycle>";
    }
  };

  private final PyCallable changed = new PyCallable() {
    @Override
    public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
      if (lastChanged != null && Py.eq(lastChanged, args)) {
        return false;
      }
      lastChanged = args;
      return true;
    }

    @Override
    public String describe() {
      return "<bound method LoopContext.changed>";
    }
  };

  @Override
  public String toString() {
    return "<LoopContext " + (index0 + 1) + "/" + items.size() + ">";
  }
}
