package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.model.Policy;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.examples.tictactoe.TicTacToeStarter;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.server.OpenAiServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code art4j train --rollout-servers} against two {@code art4j serve} servers on 127.0.0.1: the
 * rollouts come from the servers, and a step whose adapter the servers cannot load stops the run
 * with the server and the path, before any rollout on the stale adapter.
 */
class RemoteTrainTest {

  @TempDir Path tmp;

  @Test
  void rolloutsComeFromTheServersAndAnAdapterTheyCannotLoadStopsTheRun() throws Exception {
    Path model = TrainCommandTest.quickStarter(TicTacToeStarter.spec(3), tmp.resolve("starters"));
    Path run = tmp.resolve("run");
    try (Policy policy = Policy.load(model);
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(1).build();
         OpenAiServer a = OpenAiServer.builder(engine, ChatFormat.load(model)).port(0).modelName("starter").start();
         OpenAiServer b = OpenAiServer.builder(engine, ChatFormat.load(model)).port(0).modelName("starter").start()) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = new CommandLine(new Art4j()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(
          "train", "tictactoe", "--model", model.toString(), "--run-dir", run.toString(), "--json", "--steps", "3",
          "--group-size", "2", "--groups", "1", "--val-size", "2", "--eval-every", "0", "--max-tokens", "200",
          "--torch-threads", "1", "--rollout-servers", a.baseUrl() + "," + b.baseUrl(),
          "--server-checkpoint-root", "/no/such/root");
      assertEquals(1, code, "stdout: " + out + "\nstderr: " + err);
      String server = a.baseUrl().toString().replaceAll("/v1$", "");
      assertTrue(err.toString().contains(server + " could not load LoRA adapter 'run@1' from /no/such/root/checkpoints/1"),
          err.toString());

      RunStore store = RunStore.open(run);
      assertEquals(List.of(0), store.history("val").stream().map(HistoryEntry::step).toList(), "step 0 held-out games ran remotely");
      assertEquals(List.of(1), store.history("train").stream().map(HistoryEntry::step).distinct().toList(),
          "nothing after the failed load");
      // the trainer's line and the loop's, which has the fleet's figures
      HistoryEntry step1 = store.history("train").stream().filter(h -> h.metrics().containsKey("staleness")).findFirst()
          .orElseThrow();
      assertEquals(0.0, step1.metrics().get("staleness"));
      assertEquals(2.0, step1.metrics().get("servers_up"));
      List<Trajectory> sampled = store.trajectories("train", 1).stream().flatMap(g -> g.trajectories().stream()).toList();
      assertEquals(2, sampled.size());
      for (Trajectory t : sampled) {
        assertEquals(0, ((Number) t.metadata().get("policy_step")).intValue());
      }
    }
  }

  /** {@code art4j train tictactoe --json} on {@code model} into {@code run} with extra arguments; the JSON lines. */
  private static List<JsonNode> train(Path model, Path run, int steps, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("train", "tictactoe", "--model", model.toString(), "--run-dir", run.toString(),
        "--json", "--steps", Integer.toString(steps), "--group-size", "2", "--groups", "2", "--val-size", "2",
        "--eval-every", "0", "--max-tokens", "200", "--torch-threads", "1"));
    args.addAll(List.of(extra));
    return TrainCommandTest.jsonLines(args.toArray(String[]::new));
  }

  private static List<String> conversations(Path run, int step) {
    return RunStore.open(run).trajectories("train", step).stream().flatMap(g -> g.trajectories().stream())
        .map(t -> t.messages().toString()).toList();
  }

  @Test
  void aRunOnTwoServersSamplesWhatTheInProcessRunSamplesAndOffPolicyRunsAhead() throws Exception {
    Path model = TrainCommandTest.quickStarter(TicTacToeStarter.spec(3), tmp.resolve("starters"));
    List<JsonNode> local = train(model, tmp.resolve("local"), 2);
    try (Policy policy = Policy.load(model);
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(1).build();
         OpenAiServer a = OpenAiServer.builder(engine, ChatFormat.load(model)).port(0).modelName("starter").start();
         OpenAiServer b = OpenAiServer.builder(engine, ChatFormat.load(model)).port(0).modelName("starter").start()) {
      String servers = a.baseUrl() + "," + b.baseUrl();
      List<JsonNode> remote = train(model, tmp.resolve("remote"), 2, "--rollout-servers", servers);
      // same seeds, same weights (the servers read the checkpoints the trainer wrote): the same run
      for (int step = 1; step <= 2; step++) {
        assertEquals(4, conversations(tmp.resolve("local"), step).size(), "2 groups of 2 at step " + step);
        assertEquals(conversations(tmp.resolve("local"), step), conversations(tmp.resolve("remote"), step), "step " + step);
      }
      assertEquals(local.size(), remote.size());
      for (int i = 0; i < local.size(); i++) {
        assertEquals(local.get(i).get("reward_mean").asDouble(), remote.get(i).get("reward_mean").asDouble(), 1e-12, "line " + i);
        if (local.get(i).has("loss")) {
          assertEquals(local.get(i).get("loss").asDouble(), remote.get(i).get("loss").asDouble(), 1e-4, "line " + i);
        }
      }

      Path ahead = tmp.resolve("ahead");
      train(model, ahead, 3, "--rollout-servers", servers, "--max-steps-off-policy", "1");
      RunStore store = RunStore.open(ahead);
      List<HistoryEntry> lines = store.history("train").stream().filter(h -> h.metrics().containsKey("staleness")).toList();
      assertEquals(List.of(1, 2, 3), lines.stream().map(HistoryEntry::step).toList());
      // step 2's rollouts ran while step 1 trained, on adapter 0; step 3's on adapter 1
      assertEquals(List.of(0.0, 1.0, 1.0), lines.stream().map(h -> h.metrics().get("staleness")).toList());
      for (int step = 1; step <= 3; step++) {
        for (TrajectoryGroup g : store.trajectories("train", step)) {
          for (Trajectory t : g.trajectories()) {
            assertEquals(Math.max(0, step - 2), ((Number) t.metadata().get("policy_step")).intValue(), "step " + step);
          }
        }
      }
      JsonNode models = TrainCommandTest.JSON.readTree(java.net.URI.create(a.baseUrl() + "/models").toURL().openStream());
      List<String> ids = new ArrayList<>();
      models.get("data").forEach(m -> ids.add(m.get("id").asText()));
      assertTrue(ids.contains("ahead@3") && ids.contains("ahead@2") && !ids.contains("ahead@1"), "keeps K + 1 adapters: " + ids);
    }
  }

  @Test
  void aServerSigkilledDuringTheRunLosesNoTrajectoryAndTheHistorySaysItDropped() throws Exception {
    Path model = TrainCommandTest.quickStarter(TicTacToeStarter.spec(3), tmp.resolve("starters"));
    Path run = tmp.resolve("killed");
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        Art4j.class.getName(), "serve", "--model", model.toString(), "--port", "0")
        .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("child.log").toFile())).start();
    try (Policy policy = Policy.load(model);
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(1).build();
         OpenAiServer a = OpenAiServer.builder(engine, ChatFormat.load(model)).port(0).modelName("starter").start()) {
      String ready = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream())).readLine();
      assertTrue(ready != null && ready.contains("\"url\""), "the child server did not start: " + ready);
      String childUrl = TrainCommandTest.JSON.readTree(ready).get("url").asText();
      java.util.concurrent.atomic.AtomicReference<List<JsonNode>> lines = new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
      Thread trainer = new Thread(() -> {
        try {
          lines.set(train(model, run, 4, "--rollout-servers", childUrl + "," + a.baseUrl()));
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      trainer.start();
      // once step 1's adapter is on the child, step 2's rollouts start: SIGKILL it then
      long deadline = System.nanoTime() + 300_000_000_000L;
      while (!models(childUrl).contains("killed@1")) {
        assertTrue(System.nanoTime() < deadline && trainer.isAlive(), "step 1 never published: " + failure.get());
        Thread.sleep(5);
      }
      child.destroyForcibly();
      trainer.join(600_000);
      assertTrue(failure.get() == null, String.valueOf(failure.get()));
      RunStore store = RunStore.open(run);
      assertEquals(List.of(1, 2, 3, 4), store.checkpointSteps());
      for (int step = 1; step <= 4; step++) {
        assertEquals(4, store.trajectories("train", step).stream().mapToInt(g -> g.trajectories().size()).sum(),
            "step " + step + ": every rollout once");
      }
      HistoryEntry last = store.history("train").stream().filter(h -> h.metrics().containsKey("server_drops"))
          .reduce((x, y) -> y).orElseThrow();
      assertEquals(4, last.step());
      assertEquals(1.0, last.metrics().get("server_drops"), "the history says a server dropped");
      assertEquals(1.0, last.metrics().get("servers_up"));
    } finally {
      child.destroyForcibly();
    }
  }

  private static List<String> models(String url) {
    try {
      JsonNode models = TrainCommandTest.JSON.readTree(java.net.URI.create(url + "/models").toURL().openStream());
      List<String> ids = new ArrayList<>();
      models.get("data").forEach(m -> ids.add(m.get("id").asText()));
      return ids;
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  @Test
  void offPolicyOptionsNeedServers() {
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Art4j()).setErr(new PrintWriter(err)).execute("train", "math", "--max-steps-off-policy", "1",
        "--run-dir", tmp.resolve("r").toString());
    assertEquals(2, code, err.toString());
    assertTrue(err.toString().contains("--max-steps-off-policy, --server-checkpoint-root and --raw-logprobs need --rollout-servers"),
        err.toString());
  }
}
