package dev.art4j.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.reward.ruler.Ruler;
import dev.art4j.reward.ruler.RulerException;
import dev.art4j.reward.ruler.RulerScore;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code art4j ruler}: scores a saved group of trajectories with RULER through an
 * OpenAI-compatible endpoint and prints {@code {"scores":[{"trajectory_id","score","explanation"}]}}
 * ({@code trajectory_id} = line number among the non-blank lines, from 1). The API key is read
 * from the environment variable named by {@code --api-key-env}; it is never printed or logged.
 * Exit status: 0 scored, 1 the judge failed, 2 bad input.
 */
@Command(
    name = "ruler",
    mixinStandardHelpOptions = true,
    description = "Score a saved trajectory group (JSONL, one trajectory per line) with the RULER LLM judge.")
final class RulerCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--group", required = true, paramLabel = "FILE.jsonl",
      description = "One trajectory per line; each needs at least `messages` in OpenAI chat format.")
  Path group;

  @Option(names = "--base-url", required = true, paramLabel = "URL",
      description = "OpenAI-compatible API base, e.g. https://api.openai.com/v1 or http://localhost:11434/v1")
  String baseUrl;

  @Option(names = "--model", required = true, paramLabel = "NAME", description = "The judge model.")
  String model;

  @Option(names = "--api-key-env", paramLabel = "VAR",
      description = "Environment variable holding the API key (default: none sent).")
  String apiKeyEnv;

  @Option(names = "--rubric", paramLabel = "FILE", description = "Grading standards replacing the default rubric.")
  Path rubric;

  @Option(names = "--max-retries", defaultValue = "2", description = "Retries after a failed call or an unusable answer (default ${DEFAULT-VALUE}).")
  int maxRetries;

  @Option(names = "--timeout-seconds", defaultValue = "120", description = "Time-out of one judge call (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--no-json-schema", description = "Do not send a JSON schema response format (for endpoints that reject it).")
  boolean noJsonSchema;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    List<Trajectory> trajectories;
    String rubricText = null;
    String apiKey = null;
    try {
      trajectories = read(group);
      if (rubric != null) {
        rubricText = Files.readString(rubric, StandardCharsets.UTF_8);
        if (rubricText.isBlank()) {
          throw new BadInput(rubric + ": the rubric file is empty");
        }
      }
      if (maxRetries < 0 || timeoutSeconds < 1) {
        throw new BadInput("--max-retries must be >= 0 and --timeout-seconds >= 1");
      }
      if (apiKeyEnv != null) {
        apiKey = System.getenv(apiKeyEnv);
        if (apiKey == null || apiKey.isBlank()) {
          throw new BadInput("environment variable " + apiKeyEnv + " (--api-key-env) is not set");
        }
      }
    } catch (BadInput e) {
      err.println("art4j ruler: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("art4j ruler: cannot read " + e.getMessage());
      return 2;
    }

    OpenAiChatModel.OpenAiChatModelBuilder judge = OpenAiChatModel.builder()
        .baseUrl(baseUrl)
        .modelName(model)
        .timeout(Duration.ofSeconds(timeoutSeconds))
        .maxRetries(0); // the Ruler retries, and also when the answer is unusable
    if (apiKey != null) {
      judge.apiKey(apiKey);
    }
    if (!noJsonSchema) {
      judge.supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true);
    }
    Ruler.Builder ruler = Ruler.builder().judge(judge.build()).maxRetries(maxRetries);
    if (rubricText != null) {
      ruler.rubric(rubricText);
    }

    List<RulerScore> scores;
    try {
      scores = ruler.build().scores(trajectories);
    } catch (RulerException e) {
      err.println("art4j ruler: " + e.getMessage());
      if (!noJsonSchema && e.getMessage().contains("jsonSchema(false)")) {
        err.println("art4j ruler: try again with --no-json-schema");
      }
      return 1;
    }
    ObjectNode out = JSON.createObjectNode();
    ArrayNode arr = out.putArray("scores");
    for (RulerScore s : scores) {
      arr.addObject().put("trajectory_id", s.trajectoryId()).put("score", s.score()).put("explanation", s.explanation());
    }
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.println(out);
    stdout.flush();
    return 0;
  }

  private static final class BadInput extends Exception {
    BadInput(String message) {
      super(message);
    }
  }

  /** The trajectories of a JSONL file, one per non-blank line; errors name the file and line. */
  private static List<Trajectory> read(Path file) throws IOException, BadInput {
    if (!Files.isRegularFile(file)) {
      throw new BadInput(file + ": no such file");
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<Trajectory> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      String where = file + ":" + (i + 1);
      Trajectory t;
      try {
        if (!JSON.readTree(line).isObject()) {
          throw new BadInput(where + ": a line must be a JSON object (one trajectory)");
        }
        t = JSON.readValue(line, Trajectory.class);
      } catch (JsonProcessingException e) {
        throw new BadInput(where + ": not a trajectory: " + e.getOriginalMessage());
      }
      if (t.messages().isEmpty()) {
        throw new BadInput(where + ": the trajectory has no \"messages\"");
      }
      out.add(t);
    }
    if (out.isEmpty()) {
      throw new BadInput(file + ": no trajectories (the file is empty)");
    }
    return out;
  }
}
