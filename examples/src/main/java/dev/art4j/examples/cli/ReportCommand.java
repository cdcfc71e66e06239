package dev.art4j.examples.cli;

import dev.art4j.core.report.ReportWriter;
import dev.art4j.core.run.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code art4j report RUN_DIR}: writes {@code RUN_DIR/report.html} (curves as inline SVG, the
 * latest trajectories) and prints its path. Exit status: 0 written, 2 not a run folder.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Write report.html for a run folder (reward, success, loss and throughput curves; latest trajectories).")
final class ReportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "RUN_DIR", description = "A run store folder, e.g. .art/math/models/starter-seed1")
  Path runDir;

  @Override
  public Integer call() {
    if (!Files.isRegularFile(runDir.resolve("history.jsonl")) && !Files.isDirectory(runDir.resolve("trajectories"))) {
      spec.commandLine().getErr().println("art4j report: " + runDir + " is not a run folder (no history.jsonl, no trajectories/)");
      return 2;
    }
    try {
      RunStore.open(runDir); // reads history.jsonl through: a corrupt line is the user's file at fault
    } catch (java.io.UncheckedIOException e) {
      spec.commandLine().getErr().println("art4j report: " + e.getMessage());
      return 2;
    }
    Path report = ReportWriter.write(runDir);
    spec.commandLine().getOut().println(report.toAbsolutePath());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
