package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.JudgeReplies;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --seed} makes a training run reproducible: the rollouts of a step are sampled from seeds
 * that depend on the step and their place in the batch, not on the order in which concurrent
 * rollouts reach the engine, so two runs (or a run stopped and resumed) sample the same tokens.
 * RULER (a fake judge on 127.0.0.1 that scores trajectory i as i/10) gives the groups different
 * rewards, so every step trains.
 */
class SeededRunTest {

  static final Path MODEL = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
      .resolve("models/tiny-chat");

  @TempDir static Path tmp;
  static MockWebServer judge;

  @BeforeAll
  static void startJudge() throws IOException {
    judge = new MockWebServer();
    judge.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        try {
          String user = JudgeReplies.userMessage(request);
          return JudgeReplies.completion(JudgeReplies.scores(JudgeReplies.trajectoriesIn(user)));
        } catch (IOException e) {
          return new MockResponse.Builder().code(400).body(e.toString()).build();
        }
      }
    });
    judge.start();
  }

  @AfterAll
  static void stopJudge() {
    judge.close();
  }

  @Test
  void aSeedGivesTheSameRunAndAResumedRunEndsWhereAStraightOneDoes() throws Exception {
    List<JsonNode> a = train("a", 3);
    List<JsonNode> b = train("b", 3);
    assertEquals(List.of("val 0", "train 1", "train 2", "train 3", "val 3"),
        a.stream().map(l -> l.get("split").asText() + " " + l.get("step").asInt()).toList());
    assertSameRun(a, b);
    train("c", 2);
    List<JsonNode> resumed = train("c", 3);
    assertSameRun(a.subList(3, 5), resumed);
    for (int step = 1; step <= 3; step++) {
      List<String> sampled = sampled("a", step);
      assertEquals(8, sampled.size());
      assertEquals(sampled, sampled("b", step), "step " + step);
      assertEquals(sampled, sampled("c", step), "step " + step + " (c resumed at 3)");
    }

    train("d", 1, "--seed", "2");
    assertNotEquals(sampled("a", 1), sampled("d", 1), "another seed samples other rollouts");
  }

  /**
   * The same lines but for times, and losses equal to float rounding: libtorch's MKL picks its
   * kernels by memory alignment, so the trainer's sums may round differently from run to run
   * ({@code MKL_CBWR=COMPATIBLE} makes them bitwise equal, at about half the training speed).
   */
  private static void assertSameRun(List<JsonNode> expected, List<JsonNode> actual) {
    assertEquals(withoutTimes(expected), withoutTimes(actual));
    for (int i = 0; i < expected.size(); i++) {
      if (expected.get(i).get("split").asText().equals("train")) {
        double want = expected.get(i).get("loss").asDouble();
        assertTrue(Double.isFinite(want), "every step trains: " + expected.get(i));
        assertEquals(want, actual.get(i).get("loss").asDouble(), 1e-7 + 1e-4 * Math.abs(want), "loss " + i);
      }
    }
  }

  /** The conversations of a train step (the run store keeps messages, not tokens), in group and member order. */
  private static List<String> sampled(String run, int step) throws IOException {
    List<String> out = new ArrayList<>();
    for (TrajectoryGroup g : RunStore.open(tmp.resolve(run)).trajectories("train", step)) {
      for (Trajectory t : g.trajectories()) {
        out.add(t.messages().stream().map(m -> m.role() + ": " + m.content()).toList().toString());
      }
    }
    return out;
  }

  private static List<JsonNode> train(String run, int steps, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("train", "math", "--model", MODEL.toString(),
        "--run-dir", tmp.resolve(run).toString(), "--json", "--steps", Integer.toString(steps),
        "--groups", "2", "--group-size", "4", "--val-size", "2", "--train-size", "20", "--eval-every", "0",
        "--max-tokens", "200", "--temperature", "5", "--torch-threads", "1",
        "--ruler", "--judge-base-url", judge.url("/v1").toString(), "--judge-model", "judge"));
    args.addAll(List.of(more));
    return TrainCommandTest.jsonLines(args.toArray(String[]::new));
  }

  /** The lines without what the clock decides, and without the loss. */
  private static List<String> withoutTimes(List<JsonNode> lines) {
    return lines.stream().map(l -> {
      ObjectNode o = l.deepCopy();
      o.remove(List.of("seconds", "tokens_per_second", "loss"));
      return o.toString();
    }).toList();
  }
}
