package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.model.Policy;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.examples.tictactoe.TicTacToeStarter;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.server.OpenAiServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
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
