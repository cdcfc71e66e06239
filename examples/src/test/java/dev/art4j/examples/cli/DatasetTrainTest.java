package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.mcp.math.MathServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code art4j train dataset --file} end to end on a math starter without warm start (random
 * weights: builds in seconds) and the bundled math MCP server: the questions played are the
 * file's, the held-out ones are never trained on, and every trajectory carries its reference answer.
 */
class DatasetTrainTest {

  @TempDir static Path tmp;
  static Path model;

  @BeforeAll
  static void starter() {
    model = TrainCommandTest.quickStarter(MathStarter.spec(3), tmp.resolve("starters"));
  }

  @Test
  void playsTheFilesQuestionsAndHoldsOutRowsItNeverTrainsOn() throws Exception {
    // 4 rows: a fifth rounds to none, yet one row is held out, and the other three are trained on
    Path file = tmp.resolve("tasks.jsonl");
    Files.writeString(file, """
        {"id": "a", "question": "How much is 12 plus 30?", "answer": "#### 42"}
        {"id": "b", "question": "Compute 90 / 9.", "answer": "#### 10"}
        {"id": "c", "question": "What is 7 times 6?", "answer": "#### 42"}
        {"id": "d", "question": "What is 50 minus 8?", "answer": "#### 42"}
        """);
    Path run = tmp.resolve("run");
    List<String> kinds = TrainCommandTest.jsonLines("train", "dataset", "--file", file.toString(), "--model",
            model.toString(), "--run-dir", run.toString(), "--json", "--steps", "1", "--group-size", "2", "--groups", "3",
            "--eval-every", "0", "--max-tokens", "200", "--torch-threads", "1")
        .stream().map(line -> line.get("split").asText() + " " + line.get("step").asInt()).toList();
    assertEquals(List.of("val 0", "train 1", "val 1"), kinds);

    RunStore store = RunStore.open(run);
    Set<String> trained = questions(store.trajectories("train", 1));
    Set<String> heldOut = questions(store.trajectories("val", 1));
    assertEquals(3, trained.size(), "three groups, one question each: " + trained);
    assertEquals(1, heldOut.size(), "one held-out question: " + heldOut);
    assertFalse(trained.containsAll(heldOut), "the held-out question is not trained on: " + heldOut + " " + trained);
    Set<String> all = new HashSet<>(trained);
    all.addAll(heldOut);
    assertEquals(Set.of("How much is 12 plus 30?", "Compute 90 / 9.", "What is 7 times 6?", "What is 50 minus 8?"), all);
    for (TrajectoryGroup g : store.trajectories("train", 1)) {
      assertEquals(2, g.trajectories().size(), "--group-size 2");
      for (Trajectory t : g.trajectories()) {
        String q = t.messages().get(0).content();
        assertEquals(q.startsWith("Compute") ? "10" : "42", String.valueOf(t.metadata().get("answer")),
            "the reference answer (GSM8K's '#### n' read as n) travels with the trajectory");
      }
    }
  }

  @Test
  void anMcpConfigFileSuppliesTheTools() throws Exception {
    Path file = tmp.resolve("config-tasks.jsonl");
    Files.writeString(file, """
        {"question": "How much is 12 plus 30?", "answer": "42"}
        {"question": "Compute 90 / 9.", "answer": "10"}
        """);
    try (MathServer math = MathServer.startHttp(0, false)) {
      Path config = tmp.resolve("mcp.json");
      // the URL through a ${VAR:-default} whose variable is unset: the default is used
      Files.writeString(config, "{\"mcpServers\": {\"math\": {\"type\": \"http\", \"url\": \"${ART4J_TEST_UNSET_URL:-"
          + math.url() + "}\", \"allow\": [\"add\", \"division\"]}}}");
      Path run = tmp.resolve("config-run");
      TrainCommandTest.jsonLines("train", "dataset", "--file", file.toString(), "--mcp-config", config.toString(),
          "--model", model.toString(), "--run-dir", run.toString(), "--json", "--steps", "1", "--group-size", "2",
          "--groups", "1", "--eval-every", "0", "--max-tokens", "120", "--torch-threads", "1");
      for (TrajectoryGroup g : RunStore.open(run).trajectories("train", 1)) {
        for (Trajectory t : g.trajectories()) {
          assertEquals(List.of("add", "division"), t.tools().stream().map(ToolSpec::name).toList());
        }
      }

      Files.writeString(config, "{\"mcpServers\": {\"math\": {\"url\": \"" + math.url()
          + "\", \"headers\": {\"Authorization\": \"Bearer ${ART4J_TEST_NO_SUCH_VAR}\"}}}}");
      StringWriter err = new StringWriter();
      int code = new CommandLine(new Art4j()).setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err))
          .execute("train", "dataset", "--file", file.toString(), "--mcp-config", config.toString(), "--model",
              model.toString(), "--run-dir", tmp.resolve("bad-run").toString());
      assertEquals(2, code, err.toString());
      assertEquals("art4j train dataset: " + config + ": server \"math\", field \"headers.Authorization\": "
          + "environment variable ART4J_TEST_NO_SUCH_VAR is not set\n", err.toString());
      assertFalse(Files.exists(tmp.resolve("bad-run")), "nothing written for a bad config");

      // a per-server allow-list naming a tool the server lacks: one line, exit status 2
      Files.writeString(config, "{\"mcpServers\": {\"math\": {\"url\": \"" + math.url() + "\", \"allow\": [\"devide\"]}}}");
      StringWriter err2 = new StringWriter();
      int code2 = new CommandLine(new Art4j()).setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err2))
          .execute("train", "dataset", "--file", file.toString(), "--mcp-config", config.toString(), "--model",
              model.toString(), "--run-dir", tmp.resolve("bad-run").toString());
      assertEquals(2, code2, err2.toString());
      assertTrue(err2.toString().startsWith("art4j train dataset: MCP server `math`: allow-list names tools it does not "
          + "offer: [devide]; it offers: add,"), err2.toString());
      assertEquals(1, err2.toString().split("\n").length, "one line: " + err2);
    }
  }

  private static Set<String> questions(List<TrajectoryGroup> groups) {
    Set<String> out = new HashSet<>();
    for (TrajectoryGroup g : groups) {
      for (Trajectory t : g.trajectories()) {
        assertEquals(Role.USER, t.messages().get(0).role());
        out.add(t.messages().get(0).content());
      }
    }
    return out;
  }
}
