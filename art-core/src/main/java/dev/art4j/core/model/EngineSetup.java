package dev.art4j.core.model;

/**
 * What must happen before any DJL engine loads. Sets {@code ai.djl.offline=true}, so that no code
 * path of the library ever tries to download natives or models (a user who sets the property
 * explicitly, say to {@code false}, keeps their value), and lets oneMKL dispatch by CPU features
 * ({@link MklFeatureDispatch}).
 */
final class EngineSetup {

  static {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    MklFeatureDispatch.ensure();
  }

  private EngineSetup() {}

  /** Runs the static initialiser (idempotent). */
  static void ensure() {}
}
