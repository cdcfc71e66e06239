package dev.art4j.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's resident memory, from {@code /proc/self/status} (Linux). */
final class Rss {

  private Rss() {}

  /** Resident set now ({@code VmRSS}), MB. */
  static double currentMb() {
    return field("VmRSS:");
  }

  /** Peak resident set ({@code VmHWM}), MB. */
  static double peakMb() {
    return field("VmHWM:");
  }

  private static double field(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(name)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
      return Double.NaN;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
