package dev.art4j.examples.cli;

import dev.art4j.core.model.CheckpointException;
import dev.art4j.examples.bench.BenchCommand;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code art4j} command line. Results go to stdout (JSON where a command says so);
 * logs go to stderr. Exit status: 0 done, 1 a runtime failure, 2 bad input; either failure is
 * one line on stderr naming what is at fault, with the stack trace only under {@code --debug}.
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

  @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print the stack trace of a failure.")
  boolean debug;

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", "true");
    // slf4j-simple: everything to stderr, stdout is for results
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit status (tests call this in-process). */
  public static int run(String... args) {
    boolean debug = Arrays.asList(args).contains("--debug");
    return new CommandLine(new Art4j()).setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler((e, a) -> {
          CommandLine cmd = e.getCommandLine();
          cmd.getErr().println(name(cmd) + ": " + e.getMessage() + " (see " + name(cmd) + " --help)");
          if (debug) {
            e.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return 2;
        })
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          // a file the user named that cannot be used is bad input; anything else a runtime failure
          boolean badInput = e instanceof CheckpointException || e instanceof NoSuchFileException
              || e instanceof IllegalArgumentException;
          cmd.getErr().println(name(cmd) + ": " + oneLine(e));
          if (debug) {
            e.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return badInput ? 2 : 1;
        })
        .execute(args);
  }

  /** {@code art4j train math}: the command's qualified name, for messages. */
  private static String name(CommandLine cmd) {
    return cmd.getCommandSpec().qualifiedName(" ");
  }

  /**
   * The first line of the deepest message that says something: wrappers such as
   * {@code UncheckedIOException} or {@code CompletionException} keep the cause's message.
   */
  static String oneLine(Throwable e) {
    Throwable t = e;
    while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) {
      t = t.getCause();
    }
    String message = t.getMessage();
    String text = message == null || message.isBlank() ? t.getClass().getSimpleName()
        : t instanceof NoSuchFileException ? message + ": no such file"
        : t instanceof RuntimeException && t.getClass().getName().startsWith("dev.art4j") ? message
        : t instanceof java.io.IOException || t instanceof java.io.UncheckedIOException
            || t instanceof IllegalArgumentException || t instanceof IllegalStateException ? message
        : t.getClass().getSimpleName() + ": " + message;
    return text.lines().findFirst().orElse(text);
  }
}
