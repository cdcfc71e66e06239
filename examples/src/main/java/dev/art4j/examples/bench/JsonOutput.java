package dev.art4j.examples.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --json} for every {@code bench} subcommand: the result is one JSON object on stdout,
 * indented by default, on one line with {@code --json} (for {@code jq} and log files); logs and
 * progress go to stderr either way.
 */
final class JsonOutput {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--json", description = "Print the result as compact one-line JSON (default: indented).")
  boolean compact;

  /** Prints {@code result} (a Jackson node, map or record) to the command's stdout. */
  void print(CommandLine cmd, Object result) throws JsonProcessingException {
    String text = compact ? JSON.writeValueAsString(result) : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result);
    cmd.getOut().println(text);
    cmd.getOut().flush();
  }
}
