package dev.art4j.examples.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.JudgeReplies;
import dev.art4j.examples.cli.Art4j;
import dev.art4j.reward.ruler.Ruler;
import dev.art4j.reward.ruler.RulerException;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RULER's judge (langchain4j's OpenAI client against MockWebServer on 127.0.0.1) fails: HTTP 500,
 * a hang past the client's time-out, an unusable answer. Each is retried; then the group is
 * dropped ({@code swallowExceptions}) or the failure stops the caller; and in a real
 * {@code art4j train math --ruler} run the groups handed to the trainer carry only judge scores.
 */
class JudgeFaultTest {

  /** How the fake judge treats one group (keyed by the judge prompt's user message). */
  enum Mode { OK, HTTP_500, HANG, GARBAGE }

  @TempDir Path dir;
  MockWebServer server;
  final Map<String, Mode> modeByGroup = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> requestsByGroup = new ConcurrentHashMap<>();
  final List<Mode> nextModes = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        try {
          String user = JudgeReplies.userMessage(request);
          Mode mode;
          synchronized (nextModes) {
            mode = modeByGroup.computeIfAbsent(user, u -> nextModes.isEmpty() ? Mode.OK : nextModes.remove(0));
          }
          requestsByGroup.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
          int n = JudgeReplies.trajectoriesIn(user);
          return switch (mode) {
            case OK -> JudgeReplies.completion(JudgeReplies.scores(n));
            case HTTP_500 -> new MockResponse.Builder().code(500).addHeader("Content-Type", "application/json")
                .body("{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}").build();
            case HANG -> JudgeReplies.completion(JudgeReplies.scores(n)).newBuilder().headersDelay(3, TimeUnit.SECONDS).build();
            case GARBAGE -> JudgeReplies.completion("I'd rate them all quite highly!");
          };
        } catch (IOException e) {
          return new MockResponse.Builder().code(400).body(e.toString()).build();
        }
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  static TrajectoryGroup group(String question) {
    List<Trajectory> ts = new ArrayList<>();
    for (String answer : List.of("It is 4.", "It is 5.", "No idea.")) {
      ts.add(Trajectory.ofMessages(List.of(Message.user(question), Message.assistant(answer))).withReward(0.5));
    }
    return new TrajectoryGroup(ts, List.of());
  }

  Ruler ruler(boolean swallow) {
    OpenAiChatModel judge = OpenAiChatModel.builder().baseUrl(server.url("/v1").toString()).apiKey("k")
        .modelName("judge").maxRetries(0).timeout(Duration.ofMillis(800)).build();
    return Ruler.builder().judge(judge).maxRetries(2).retryDelay(Duration.ofMillis(10)).swallowExceptions(swallow).build();
  }

  @Test
  void failingGroupsAreRetriedThenDroppedAndTheScoredOnesCarryOnlyJudgeScores() {
    nextModes.addAll(List.of(Mode.HTTP_500, Mode.HANG, Mode.GARBAGE));
    // score one at a time so that the modes go to the groups in order
    List<TrajectoryGroup> in = List.of(group("q500: 2+2?"), group("qhang: 2+3?"), group("qgarbage: 1+1?"), group("qok: 3+3?"));
    Ruler ruler = ruler(true);
    List<TrajectoryGroup> kept = new ArrayList<>();
    for (TrajectoryGroup g : in) {
      ruler.score(g).ifPresent(kept::add);
    }
    assertEquals(1, kept.size(), "only the group the judge scored is handed on");
    TrajectoryGroup ok = kept.get(0);
    assertTrue(ok.trajectories().get(0).messages().get(0).content().startsWith("qok"));
    for (int i = 0; i < ok.size(); i++) {
      Trajectory t = ok.trajectories().get(i);
      assertEquals((i + 1) / 10.0, t.reward(), 1e-12);
      assertEquals(t.reward(), t.metrics().get("ruler_score"));
      assertEquals(0.5, t.metrics().get("independent_reward"));
    }
    // every failing group was tried 1 + maxRetries times, the good one once
    assertEquals(4, requestsByGroup.size());
    for (Map.Entry<String, Mode> e : modeByGroup.entrySet()) {
      assertEquals(e.getValue() == Mode.OK ? 1 : 3, requestsByGroup.get(e.getKey()).get(), e.getValue().toString());
    }
  }

  @Test
  void withoutSwallowingEachFailureStopsTheCallerWithTheCause() {
    Ruler ruler = ruler(false);
    nextModes.add(Mode.HTTP_500);
    RulerException e500 = assertThrows(RulerException.class, () -> ruler.score(group("a: 1?")));
    assertTrue(e500.getMessage().contains("after 3 attempts") && e500.getMessage().contains("overloaded"), e500.getMessage());
    nextModes.add(Mode.HANG);
    RulerException hang = assertThrows(RulerException.class, () -> ruler.score(group("b: 2?")));
    assertTrue(hang.getMessage().contains("after 3 attempts") && hang.getMessage().toLowerCase().contains("timeout"),
        hang.getMessage());
    nextModes.add(Mode.GARBAGE);
    RulerException garbage = assertThrows(RulerException.class, () -> ruler.score(group("c: 3?")));
    assertTrue(garbage.getMessage().contains("invalid answer"), garbage.getMessage());
    // scoreAll: one bad group fails the whole batch, nothing partial comes back
    nextModes.add(Mode.HTTP_500);
    assertThrows(RulerException.class, () -> ruler.scoreAll(List.of(group("d: 4?"), group("e: 5?"))));
  }

  /**
   * A real {@code art4j train math --ruler} step on the tiny chat fixture: of three groups the
   * judge answers 500 for one and garbage for another. The run goes on (the CLI drops failed
   * groups), and every trajectory the trainer logged for the step carries the judge's score:
   * none kept its rule-based reward.
   */
  @Test
  void trainRunDropsGroupsTheJudgeFailedOnBeforeTraining() {
    nextModes.addAll(List.of(Mode.HTTP_500, Mode.GARBAGE));
    Path model = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
    Path run = dir.resolve("run");
    int rc = Art4j.run("train", "math", "--model", model.toString(), "--steps", "1", "--groups", "3",
        "--group-size", "2", "--val-size", "1", "--train-size", "20", "--max-tokens", "200", "--json",
        "--run-dir", run.toString(), "--ruler", "--judge-base-url", server.url("/v1").toString(),
        "--judge-model", "judge");
    assertEquals(0, rc, "the run survives the failing judge");
    assertEquals(3, modeByGroup.size(), "three groups were sent to the judge");
    List<TrajectoryGroup> trained = RunStore.open(run).trajectories("train", 1);
    assertEquals(1, trained.size(), "the two groups the judge failed on are not trained on");
    for (TrajectoryGroup g : trained) {
      for (Trajectory t : g.trajectories()) {
        assertTrue(t.metrics().containsKey("ruler_score"), "unjudged trajectory reached the trainer: " + t.metrics());
        assertEquals(t.metrics().get("ruler_score"), t.reward(), 1e-12);
      }
    }
    for (Map.Entry<String, Mode> e : modeByGroup.entrySet()) {
      assertEquals(e.getValue() == Mode.OK ? 1 : 3, requestsByGroup.get(e.getKey()).get(), e.getValue().toString());
    }
    assertFalse(RunStore.open(run).history("train").isEmpty());
  }

  /**
   * A judge that fails on every group: the run stops at the first step with exit 1 and says why,
   * instead of "training" on nothing with exit 0; {@code --judge-retries} sets the attempts.
   */
  @Test
  void aJudgeThatAlwaysFailsStopsTheRunWithItsReason() {
    for (int i = 0; i < 10; i++) {
      nextModes.add(Mode.HTTP_500);
    }
    Path model = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
    Path run = dir.resolve("run");
    java.io.PrintStream savedErr = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int rc;
    try {
      System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
      rc = Art4j.run("train", "math", "--model", model.toString(), "--steps", "2", "--groups", "2",
          "--group-size", "2", "--val-size", "1", "--train-size", "20", "--max-tokens", "200", "--json",
          "--run-dir", run.toString(), "--ruler", "--judge-base-url", server.url("/v1").toString(),
          "--judge-model", "judge", "--judge-retries", "0", "--judge-timeout", "30");
    } finally {
      System.setErr(savedErr);
    }
    String stderr = err.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(1, rc, stderr);
    assertTrue(stderr.contains("step 1: the judge failed on all 2 groups") && stderr.contains("overloaded"), stderr);
    assertEquals(2, modeByGroup.size());
    for (AtomicInteger n : requestsByGroup.values()) {
      assertEquals(1, n.get(), "--judge-retries 0: one attempt per group");
    }
    RunStore store = RunStore.open(run);
    assertTrue(store.checkpointSteps().isEmpty(), "nothing trained");
    assertTrue(store.history("train").isEmpty(), "no train line for a step that trained nothing");
  }
}
