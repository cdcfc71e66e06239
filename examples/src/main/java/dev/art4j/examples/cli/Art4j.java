package dev.art4j.examples.cli;

import dev.art4j.examples.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code art4j} command line. Results go to stdout (JSON where a command says so);
 * logs go to stderr.
 */
@Command(
    name = "art4j",
    mixinStandardHelpOptions = true,
    version = "art4j 0.1.0",
    description = "Agent Reinforcement Trainer for the JVM.",
    subcommands = {
      CommandLine.HelpCommand.class,
      ScoreCommand.class,
      GenerateCommand.class,
      McpCommand.class,
      ScenariosCommand.class,
      RulerCommand.class,
      ServeCommand.class,
      BenchCommand.class,
      TrainCommand.class,
      ReportCommand.class,
      TemplateCommand.class,
    })
public final class Art4j {

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", "true");
    // slf4j-simple: everything to stderr, stdout is for results
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit status (tests call this in-process). */
  public static int run(String... args) {
    return new CommandLine(new Art4j()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }
}
