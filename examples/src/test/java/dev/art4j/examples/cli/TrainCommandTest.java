package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.examples.starter.Starter;
import dev.art4j.examples.starter.StarterSpec;
import dev.art4j.examples.tictactoe.TicTacToeStarter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code art4j train tictactoe --json} end to end on a starter without warm start (random
 * weights, so it builds in seconds): the JSON lines the issue specifies, the run store, the
 * report, and a resumed run that continues where the first stopped.
 */
class TrainCommandTest {

  @TempDir static Path tmp;
  static Path model;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void starter() {
    model = quickStarter(TicTacToeStarter.spec(3), tmp.resolve("starters"));
  }

  /** {@code full}'s tokenizer and random model (200 demonstrations for the tokenizer), no warm start: seconds to build. */
  static Path quickStarter(StarterSpec full, Path cache) {
    StarterSpec quick = new StarterSpec(full.name(), full.seed(), full.tools(), full.demonstration(),
        full.extraCorpus(), full.shape(), 200, 0, full.fusedTokens());
    return Starter.ensure(quick, cache);
  }

  @Test
  void jsonLinesRunStoreReportAndResume() throws Exception {
    Path run = tmp.resolve("run");
    List<JsonNode> first = train(run, 2);
    assertEquals(List.of("val 0", "train 1", "train 2", "val 2"), kinds(first));
    for (JsonNode line : first) {
      assertTrue(line.has("success_rate") && line.has("reward_mean") && line.has("seconds"), line.toString());
      double s = line.get("success_rate").asDouble();
      assertTrue(s >= 0 && s <= 1);
    }
    assertTrue(first.get(1).get("seconds").asDouble() <= first.get(2).get("seconds").asDouble(), "seconds since start");

    RunStore store = RunStore.open(run);
    assertEquals(List.of(1, 2), store.checkpointSteps());
    List<HistoryEntry> val = store.history("val");
    assertEquals(List.of(0, 2), val.stream().map(HistoryEntry::step).toList());
    assertEquals(2, store.trajectories("val", 2).size(), "one group per held-out game");
    assertTrue(Files.readString(run.resolve("report.html")).contains("<polyline"));

    List<JsonNode> resumed = train(run, 3);
    assertEquals(List.of("train 3", "val 3"), kinds(resumed), "resumes at step 3, no second step-0 evaluation");
    assertEquals(List.of(1, 2, 3), RunStore.open(run).checkpointSteps());
  }

  /** Keeps the history lines that {@code keep} accepts, as a kill or a failed write before the others would. */
  static void dropHistory(Path run, java.util.function.Predicate<JsonNode> drop) throws IOException {
    Path file = run.resolve("history.jsonl");
    StringBuilder kept = new StringBuilder();
    for (String line : Files.readAllLines(file)) {
      if (!drop.test(JSON.readTree(line))) {
        kept.append(line).append('\n');
      }
    }
    Files.writeString(file, kept);
  }

  @Test
  void aKilledEvaluationAndAStepWithoutItsHistoryAreDoneAgain() throws Exception {
    Path run = tmp.resolve("killed");
    train(run, 2);
    // killed during the final evaluation: step 2 is checkpointed, its val line and the report never written
    dropHistory(run, l -> l.get("split").asText().equals("val") && l.get("step").asInt() == 2);
    Files.delete(run.resolve("report.html"));
    List<JsonNode> again = train(run, 2);
    assertEquals(List.of("val 2"), kinds(again), "the lost evaluation is run again");
    assertTrue(again.get(0).get("success_rate").isNumber());
    assertTrue(Files.exists(run.resolve("report.html")), "the report is written");

    // the loop's history write of step 2 failed after the trainer's checkpoint: step 2 is trained again
    dropHistory(run, l -> l.get("step").asInt() == 2 && (l.get("split").asText().equals("val")
        || l.get("metrics").has("rollout_seconds")));
    List<JsonNode> redone = train(run, 2);
    assertEquals(List.of("train 2", "val 2"), kinds(redone));
    RunStore store = RunStore.open(run);
    assertEquals(List.of(1, 2), store.checkpointSteps());
    assertEquals(List.of(1, 2), store.history("train").stream().filter(h -> h.metrics().containsKey("rollout_seconds"))
        .map(HistoryEntry::step).toList(), "no step without its metrics");
  }

  private static List<JsonNode> train(Path run, int steps) throws Exception {
    return jsonLines("train", "tictactoe", "--model", model.toString(), "--run-dir", run.toString(), "--json",
        "--steps", Integer.toString(steps), "--group-size", "2", "--groups", "1", "--val-size", "2",
        "--eval-every", "0", "--max-tokens", "200", "--torch-threads", "1");
  }

  /** Runs an {@code art4j} command that must succeed and returns its stdout's JSON lines. */
  static List<JsonNode> jsonLines(String... args) throws IOException {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Art4j()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    assertEquals(0, code, "stderr: " + err);
    List<JsonNode> lines = new ArrayList<>();
    for (String l : out.toString().split("\n")) {
      if (!l.isBlank()) {
        lines.add(JSON.readTree(l));
      }
    }
    return lines;
  }

  private static List<String> kinds(List<JsonNode> lines) {
    return lines.stream().map(l -> l.get("split").asText() + " " + l.get("step").asInt()).toList();
  }
}
