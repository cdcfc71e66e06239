package dev.art4j.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** Jinja2's {@code namespace(...)}: the one object a template may change from inside a loop. */
final class Namespace {

  final Map<String, Object> attrs = new LinkedHashMap<>();

  @Override
  public String toString() {
    return "<Namespace " + Py.repr(attrs) + ">";
  }
}
