package dev.art4j.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.run.RunStore;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report as a browser draws it: headless Chromium takes a screenshot of {@code report.html}
 * and the val line (the second colour, red, used by nothing else on the page but its legend box)
 * is found in the pixels, rising where the logged success rate rises and falling where it falls.
 * Skipped where no Chromium is installed; {@code .ci/run} installs Debian's.
 */
class ReportRendersInChromiumTest {

  @TempDir Path dir;

  @Test
  void theValLineIsDrawnTheWayTheDataGoes() throws Exception {
    String chromium = chromium();
    Assumptions.assumeTrue(chromium != null, "no chromium on PATH");
    // a browser that cannot start here (sandbox, shared memory) is this machine's problem, not the
    // report's: a plain red square must come out as one before the report is judged
    Path probe = Files.createDirectories(dir.resolve("probe")).resolve("probe.html");
    Files.writeString(probe, "<!DOCTYPE html><body style=\"margin:0\"><div style=\"background:#d62728;"
        + "width:100px;height:100px;margin-top:40px\"></div></body>");
    Path shot = screenshot(chromium, probe);
    Assumptions.assumeTrue(shot != null, shot != null ? "" : "chromium could not take a screenshot here: " + log(probe));
    assertEquals(100 * 100, redPixels(shot).count(), "the probe's square, whole");

    Slope rising = redPixels(chromium, run("rising", new double[] {0.0, 0.25, 0.5, 0.75, 1.0}));
    Slope falling = redPixels(chromium, run("falling", new double[] {1.0, 0.75, 0.5, 0.25, 0.0}));
    Slope none = redPixels(chromium, ReportWriter.write(Files.createDirectories(dir.resolve("empty"))));

    assertTrue(rising.count() > 300, "the rising val line is drawn: " + rising);
    assertTrue(falling.count() > 300, "the falling val line is drawn: " + falling);
    assertEquals(0, none.count(), "an empty run draws no line: " + none);
    // 0 -> 1 over steps 0..4 spans the plot corner to corner; screen y grows downwards
    double diagonal = (double) (LineChart.HEIGHT - LineChart.TOP - LineChart.BOTTOM)
        / (LineChart.WIDTH - LineChart.LEFT - LineChart.RIGHT);
    assertEquals(-diagonal, rising.dyDx(), 0.05, "rising success is drawn going up, corner to corner: " + rising);
    assertEquals(diagonal, falling.dyDx(), 0.05, "falling success is drawn going down: " + falling);
  }

  /** A run with a flat train success rate (blue) and the given val success rates (red), steps 0..4. */
  private Path run(String name, double[] val) {
    RunStore store = RunStore.open(dir.resolve(name));
    for (int step = 0; step < val.length; step++) {
      if (step > 0) {
        store.log(List.of(), "train", Map.of("success_rate", 0.5, "reward_mean", 0.5), step);
      }
      store.log(List.of(), "val", Map.of("success_rate", val[step]), step);
    }
    return ReportWriter.write(store.dir());
  }

  /** How many pixels of a screenshot are near #d62728, and the least-squares slope dy/dx of those below the legend. */
  record Slope(int count, double dyDx) {}

  private Slope redPixels(String chromium, Path report) throws IOException, InterruptedException {
    Path png = screenshot(chromium, report);
    assertTrue(png != null, "chromium wrote no screenshot of " + report + "; its output: " + log(report));
    return redPixels(png);
  }

  /** Chromium's screenshot of {@code page} (a PNG beside it), or null if it wrote none. */
  private static Path screenshot(String chromium, Path page) throws IOException, InterruptedException {
    Path png = page.resolveSibling("shot.png");
    Process p = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", "--window-size=1300,900", "--screenshot=" + png.toAbsolutePath(), page.toUri().toString())
        .redirectErrorStream(true).redirectOutput(page.resolveSibling("chromium.log").toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return null;
    }
    return Files.exists(png) && Files.size(png) > 0 ? png : null;
  }

  private static String log(Path page) throws IOException {
    Path log = page.resolveSibling("chromium.log");
    return Files.exists(log) ? Files.readString(log) : "(no output)";
  }

  /** The red pixels of a screenshot: how many, and their least-squares dy/dx below the topmost red (the legend box). */
  private static Slope redPixels(Path png) throws IOException {
    BufferedImage img = ImageIO.read(png.toFile());
    int legendTop = Integer.MAX_VALUE;
    for (int y = 0; y < img.getHeight() && legendTop == Integer.MAX_VALUE; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if (isRed(img.getRGB(x, y))) {
          legendTop = y;
          break;
        }
      }
    }
    // the legend box (10 px, 10 px above the plot, LineChart) is the topmost red: left out of the fit
    int all = 0;
    int n = 0;
    double sx = 0;
    double sy = 0;
    double sxx = 0;
    double sxy = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if (!isRed(img.getRGB(x, y))) {
          continue;
        }
        all++;
        if (y >= legendTop + 12) {
          n++;
          sx += x;
          sy += y;
          sxx += (double) x * x;
          sxy += (double) x * y;
        }
      }
    }
    double slope = n < 2 ? Double.NaN : (n * sxy - sx * sy) / (n * sxx - sx * sx);
    return new Slope(all, slope);
  }

  private static boolean isRed(int rgb) {
    int r = (rgb >> 16) & 0xff;
    int g = (rgb >> 8) & 0xff;
    int b = rgb & 0xff;
    return Math.abs(r - 0xd6) + Math.abs(g - 0x27) + Math.abs(b - 0x28) < 40;
  }

  /** Chromium's command: {@code -Dart4j.chromium}, else the first of the usual names on PATH. */
  private static String chromium() {
    String prop = System.getProperty("art4j.chromium");
    if (prop != null) {
      return prop;
    }
    for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
      for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        if (Files.isExecutable(Path.of(d, name))) {
          return Path.of(d, name).toString();
        }
      }
    }
    return null;
  }
}
