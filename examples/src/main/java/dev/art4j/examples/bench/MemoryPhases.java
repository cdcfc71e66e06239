package dev.art4j.examples.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a benchmark's memory goes, phase by phase: at the end of each phase the resident set
 * ({@code VmRSS}), the peak resident set during the phase ({@code VmHWM}, reset at each mark by
 * writing 5 to {@code /proc/self/clear_refs}; the whole run's peak when the kernel refuses), the
 * Java heap in use and the JVM's direct buffers (DJL keeps CPU tensors created from Java buffers in
 * them). Linux only; elsewhere the figures are NaN.
 */
final class MemoryPhases {

  private final ObjectNode out;
  private final boolean resettable;
  private double peak;

  /** Records into {@code out}, one object per phase. */
  MemoryPhases(ObjectNode out) {
    this.out = out;
    this.resettable = resetPeak();
  }

  /** Ends a phase: records its figures under {@code name} and starts the next one. */
  void mark(String name) {
    Runtime rt = Runtime.getRuntime();
    ObjectNode p = out.putObject(name);
    p.put("rss_mb", round(Rss.currentMb()));
    double phasePeak = Rss.peakMb();
    peak = Math.max(peak, phasePeak);
    p.put("peak_rss_mb", round(phasePeak));
    p.put("heap_used_mb", round((rt.totalMemory() - rt.freeMemory()) / 1048576.0));
    p.put("direct_mb", round(directBytes() / 1048576.0));
    if (resettable) {
      resetPeak();
    }
  }

  /** The whole run's peak resident set so far, MB (the phases' peaks and the current one's). */
  double peakMb() {
    return Math.max(peak, Rss.peakMb());
  }

  private static double directBytes() {
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        return pool.getMemoryUsed();
      }
    }
    return Double.NaN;
  }

  private static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  private static double round(double mb) {
    return Math.round(mb * 10) / 10.0;
  }
}
