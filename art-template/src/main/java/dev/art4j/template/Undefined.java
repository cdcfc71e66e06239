package dev.art4j.template;

/**
 * Jinja2's default {@code Undefined}: what a missing variable, attribute or item evaluates to.
 * It is falsy, prints as nothing, iterates as empty and has length 0; anything else done with it
 * (arithmetic, attribute access, calling it) raises {@code UndefinedError} with its hint.
 */
final class Undefined {

  /** The message of the error that using this value raises. */
  final String hint;
  /** Set for attributes the immutable sandbox refuses ({@code list.append}): using them is a SecurityError. */
  final boolean unsafe;

  private Undefined(String hint, boolean unsafe) {
    this.hint = hint;
    this.unsafe = unsafe;
  }

  static Undefined named(String name) {
    return new Undefined("'" + name + "' is undefined", false);
  }

  static Undefined attribute(Object owner, String name) {
    return new Undefined("'" + Py.objectTypeRepr(owner) + "' has no attribute '" + name + "'", false);
  }

  static Undefined element(Object owner, Object key) {
    if (key instanceof String s) {
      return attribute(owner, s);
    }
    return new Undefined(Py.objectTypeRepr(owner) + " has no element " + Py.repr(key), false);
  }

  static Undefined hint(String hint) {
    return new Undefined(hint, false);
  }

  static Undefined unsafe(Object owner, String name) {
    return new Undefined("access to attribute '" + name + "' of '" + Py.typeName(owner) + "' object is unsafe.", true);
  }

  PyError error() {
    return new PyError(unsafe ? "SecurityError" : "UndefinedError", hint);
  }

  @Override
  public String toString() {
    return "";
  }
}
