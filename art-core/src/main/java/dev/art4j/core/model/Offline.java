package dev.art4j.core.model;

/**
 * Sets {@code ai.djl.offline=true} before any DJL engine loads, so that no code path of the
 * library ever tries to download natives or models. A user who sets the property explicitly
 * (say, to {@code false}) keeps their value.
 */
final class Offline {

  static {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
  }

  private Offline() {}

  /** Runs the static initialiser (idempotent). */
  static void ensure() {}
}
