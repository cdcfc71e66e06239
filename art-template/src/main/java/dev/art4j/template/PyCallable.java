package dev.art4j.template;

import java.util.List;
import java.util.Map;

/** Anything a template can call: globals such as {@code range}, bound methods, macros, {@code caller}. */
interface PyCallable {

  Object call(Interpreter interpreter, List<Object> args, Map<String, Object> kwargs);

  /** What Python's {@code str()} gives for it. */
  String describe();
}
