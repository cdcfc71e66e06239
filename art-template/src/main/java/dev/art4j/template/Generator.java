package dev.art4j.template;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * What Jinja2's {@code map}, {@code select}, {@code reject}, {@code selectattr} and
 * {@code rejectattr} return: a Python generator, not a list. It can be looped over once (a second
 * loop sees nothing), it is always true, and it has no length, no index and no JSON form:
 * {@code x|map('upper')|tojson} raises {@code TypeError: Object of type generator is not JSON
 * serializable} in Jinja2, so it must here too, where a list used to be printed.
 */
final class Generator implements Iterable<Object> {

  private List<Object> items;

  Generator(List<Object> items) {
    this.items = items;
  }

  @Override
  public Iterator<Object> iterator() {
    List<Object> rest = items;
    items = Collections.emptyList(); // consumed, as a Python generator is
    return rest.iterator();
  }
}
