package dev.art4j.reward.ruler;

import static dev.art4j.reward.ruler.JudgeReplies.body;
import static dev.art4j.reward.ruler.JudgeReplies.completion;
import static dev.art4j.reward.ruler.JudgeReplies.error;
import static dev.art4j.reward.ruler.JudgeReplies.judge;
import static dev.art4j.reward.ruler.JudgeReplies.scores;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.core.trajectory.ToolErrors;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RulerTest {

  private static final String QUESTION = "What is (17 + 25) / 2? Use the tools.";
  private static final List<Message> PREFIX = List.of(
      Message.system("You are a careful calculator agent."), Message.user(QUESTION));
  private static final List<ToolSpec> TOOLS = List.of(
      new ToolSpec("add", "Adds two numbers", null), new ToolSpec("divide", "Divides a by b", null));

  private MockWebServer server;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Trajectory trajectory(double reward, Message... rest) {
    List<Message> messages = new ArrayList<>(PREFIX);
    messages.addAll(List.of(rest));
    return new Trajectory(messages, TOOLS, null, reward, null, null, null, null);
  }

  /** Three different rollouts: right with tools, right after a failed call, wrong. */
  private static List<Trajectory> threeRollouts() {
    Trajectory good = trajectory(0.1,
        Message.assistant("", List.of(new ToolCall("c1", "add", "{\"a\":17,\"b\":25}"))),
        Message.tool("c1", "add", "42"),
        Message.assistant("", List.of(new ToolCall("c2", "divide", "{\"a\":42,\"b\":2}"))),
        Message.tool("c2", "divide", "21"),
        Message.assistant("The answer is 21."));
    Trajectory stumbled = ToolErrors.mark(trajectory(0.2,
        Message.assistant("", List.of(new ToolCall("c1", "devide", "{\"a\":42,\"b\":2}"))),
        Message.tool("c1", "devide", "unknown tool devide, did you mean divide?"),
        Message.assistant("The answer is 21 (ALPHA).")), 3);
    Trajectory wrong = trajectory(0.3, Message.assistant("I think it is 20 (BRAVO)."));
    return List.of(good, stumbled, wrong);
  }

  private static int count(String haystack, String needle) {
    int n = 0;
    for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void requestCarriesRubricSharedPrefixOnceAndEveryTrajectory() throws Exception {
    server.enqueue(completion(scores(0.9, 0.6, 0.1)));
    String rubric = "Prefer trajectories that check the tool result (RUBRIC-MARK).";
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), true)).rubric(rubric).build();
    RuntimeException failedRollout = new RuntimeException("rollout 4 died");
    TrajectoryGroup group = new TrajectoryGroup(threeRollouts(), List.of(failedRollout));

    TrajectoryGroup scored = ruler.score(group).orElseThrow();

    JsonNode req = body(server.takeRequest());
    assertEquals("judge-model", req.get("model").asText());
    JsonNode messages = req.get("messages");
    assertEquals(2, messages.size());
    String system = messages.get(0).get("content").asText();
    String user = messages.get(1).get("content").asText();
    assertTrue(system.contains("RUBRIC-MARK"), system);
    assertFalse(system.contains("significantly higher score"), "custom rubric replaces the default");
    assertEquals(1, count(user, QUESTION), "shared prefix sent once");
    assertEquals(1, count(user, "careful calculator"), "shared system prompt sent once");
    assertTrue(user.indexOf("<context>") < user.indexOf(QUESTION) && user.indexOf(QUESTION) < user.indexOf("</context>"));
    for (int id = 1; id <= 3; id++) {
      assertEquals(1, count(user, "<trajectory id=\"" + id + "\">"), user);
    }
    assertFalse(user.contains("<trajectory id=\"4\">"));
    // each remainder sits inside its own tag, rendered with tool calls and results
    String t1 = between(user, "<trajectory id=\"1\">", "</trajectory>");
    String t2 = between(user, "<trajectory id=\"2\">", "</trajectory>");
    String t3 = between(user, "<trajectory id=\"3\">", "</trajectory>");
    assertTrue(t1.contains("[tool call add #c1] {\"a\":17,\"b\":25}") && t1.contains("[tool result divide #c2]\n21"), t1);
    assertTrue(t2.contains("[tool error devide #c1]") && t2.contains("ALPHA"), t2);
    assertTrue(t3.contains("BRAVO") && !t3.contains("[tool"), t3);
    assertTrue(user.contains("<tools>") && user.contains("- add: Adds two numbers")
        && user.contains("- divide: Divides a by b"), user);
    // JSON schema response format, since the model declares the capability
    JsonNode format = req.get("response_format");
    assertNotNull(format, req.toString());
    assertEquals("json_schema", format.get("type").asText());
    assertTrue(format.toString().contains("trajectory_id"), format.toString());

    double[] want = {0.9, 0.6, 0.1};
    double[] before = {0.1, 0.2, 0.3};
    for (int i = 0; i < 3; i++) {
      Trajectory t = scored.trajectories().get(i);
      assertEquals(want[i], t.reward(), 0.0);
      assertEquals(want[i], t.metrics().get("ruler_score"), 0.0);
      assertEquals(before[i], t.metrics().get("independent_reward"), 0.0);
      assertEquals(List.of("RULER explanation: reason for " + (i + 1)), t.logs());
      assertEquals(group.trajectories().get(i).messages(), t.messages());
    }
    assertEquals(List.of(failedRollout), scored.exceptions());
    assertEquals(0.1, group.trajectories().get(0).reward(), 0.0, "input group unchanged");
  }

  private static String between(String s, String open, String close) {
    int a = s.indexOf(open);
    return s.substring(a + open.length(), s.indexOf(close, a));
  }

  @Test
  void noJsonSchemaUnlessTheJudgeSupportsIt() throws Exception {
    server.enqueue(completion("```json\n" + scores(0.3, 0.2, 0.1) + "\n```"));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false)).build();
    List<RulerScore> s = ruler.scores(threeRollouts());
    assertEquals(List.of(0.3, 0.2, 0.1), s.stream().map(RulerScore::score).toList());
    JsonNode req = body(server.takeRequest());
    assertFalse(req.has("response_format"), req.toString());
    assertTrue(req.get("messages").get(0).get("content").asText().contains("significantly higher score"),
        "default rubric");
  }

  @Test
  void identicalTrajectoriesAreSentOnceAndShareTheScore() throws Exception {
    List<Trajectory> three = threeRollouts();
    Trajectory copyOfWrong = three.get(2).withReward(0.7); // same messages, other reward
    List<Trajectory> group = List.of(three.get(2), three.get(0), copyOfWrong, three.get(1), three.get(0));
    server.enqueue(completion(scores(0.05, 0.95, 0.5)));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false)).build();

    TrajectoryGroup scored = ruler.score(TrajectoryGroup.of(group)).orElseThrow();

    String user = body(server.takeRequest()).get("messages").get(1).get("content").asText();
    assertTrue(user.contains("<trajectory id=\"3\">"));
    assertFalse(user.contains("<trajectory id=\"4\">"), user);
    assertEquals(1, count(user, "BRAVO"), "duplicate sent once");
    assertEquals(List.of(0.05, 0.95, 0.05, 0.5, 0.95),
        scored.trajectories().stream().map(Trajectory::reward).toList());
    assertEquals(0.7, scored.trajectories().get(2).metrics().get("independent_reward"), 0.0);
    assertEquals(List.of("RULER explanation: reason for 1"), scored.trajectories().get(2).logs());

    // the plain scores are reported per group position, duplicates included
    server.enqueue(completion(scores(0.05, 0.95, 0.5)));
    List<RulerScore> s = ruler.scores(group);
    assertEquals(List.of(1, 2, 3, 4, 5), s.stream().map(RulerScore::trajectoryId).toList());
    assertEquals(List.of("reason for 1", "reason for 2", "reason for 1", "reason for 3", "reason for 2"),
        s.stream().map(RulerScore::explanation).toList());
  }

  @Test
  void wrongCountIsRetriedWithTheProblemPointedOut() throws Exception {
    server.enqueue(completion(scores(0.9, 0.6)));
    server.enqueue(completion(scores(0.8, 0.4, 0.2)));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ZERO).maxRetries(1).build();

    List<RulerScore> s = ruler.scores(threeRollouts());

    assertEquals(List.of(0.8, 0.4, 0.2), s.stream().map(RulerScore::score).toList());
    assertEquals(List.of(1, 2, 3), s.stream().map(RulerScore::trajectoryId).toList());
    assertEquals(2, server.getRequestCount());
    server.takeRequest();
    JsonNode retry = body(server.takeRequest()).get("messages");
    assertEquals(4, retry.size());
    assertEquals("assistant", retry.get(2).get("role").asText());
    assertEquals(scores(0.9, 0.6), retry.get(2).get("content").asText());
    String complaint = retry.get(3).get("content").asText();
    assertTrue(complaint.contains("expected 3 scores but got 2") && complaint.contains("missing trajectory_id 3"),
        complaint);
  }

  @Test
  void everyAnsweredCallCountsItsTokensAndCost() {
    // a rejected answer is billed too; a 500 has no usage and counts nothing
    server.enqueue(completion(scores(0.9, 0.6), 1200, 80));
    server.enqueue(error(500));
    server.enqueue(completion(scores(0.8, 0.4, 0.2), 1500, 120));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false)).retryDelay(Duration.ZERO)
        .maxRetries(2).prices(0.40, 1.60).build();
    assertEquals(TokenUsage.NONE, ruler.usage());

    ruler.score(TrajectoryGroup.of(threeRollouts())).orElseThrow();

    assertEquals(new TokenUsage(2, 2700, 200), ruler.usage());
    assertEquals((2700 * 0.40 + 200 * 1.60) / 1e6, ruler.cost(), 1e-15);
    server.enqueue(completion(scores(0.5, 0.5, 0.1), 1000, 50));
    TokenUsage before = ruler.usage();
    ruler.score(TrajectoryGroup.of(threeRollouts())).orElseThrow();
    assertEquals(new TokenUsage(1, 1000, 50), ruler.usage().minus(before));
    assertTrue(Double.isNaN(Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false)).build().cost()));
  }

  @Test
  void unusableAnswersFailClearlyAfterTheRetries() {
    server.enqueue(completion("{\"scores\":[{\"trajectory_id\":\"1\",\"explanation\":\"x\",\"score\":1.5}]}"));
    server.enqueue(completion("not json at all"));
    server.enqueue(completion("{\"scores\":[{\"trajectory_id\":\"1\",\"score\":0.5},"
        + "{\"trajectory_id\":\"7\",\"score\":0.5},{\"trajectory_id\":\"3\",\"score\":0.5}]}"));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ZERO).maxRetries(2).build();

    RulerException e = assertThrows(RulerException.class, () -> ruler.score(TrajectoryGroup.of(threeRollouts())));

    assertEquals(3, server.getRequestCount());
    assertTrue(e.getMessage().contains("3 attempts") && e.getMessage().contains("trajectory_id \"7\""),
        e.getMessage());
  }

  @Test
  void http500IsRetriedThenSucceeds() {
    server.enqueue(error(500));
    server.enqueue(error(503));
    server.enqueue(completion(scores(0.7, 0.3, 0.0)));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ofMillis(10)).maxRetries(2).build();
    List<RulerScore> s = ruler.scores(threeRollouts());
    assertEquals(List.of(0.7, 0.3, 0.0), s.stream().map(RulerScore::score).toList());
    assertEquals(3, server.getRequestCount());
  }

  @Test
  void http500EveryTimeIsReported() {
    for (int i = 0; i < 3; i++) {
      server.enqueue(error(500));
    }
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ZERO).maxRetries(2).build();
    RulerException e = assertThrows(RulerException.class, () -> ruler.score(TrajectoryGroup.of(threeRollouts())));
    assertEquals(3, server.getRequestCount());
    assertTrue(e.getMessage().contains("after 3 attempts") && e.getMessage().contains("server says 500"),
        e.getMessage());
    assertNotNull(e.getCause());
  }

  @Test
  void badApiKeyIsNotRetried() {
    server.enqueue(error(401));
    server.enqueue(completion(scores(0.7, 0.3, 0.0)));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ZERO).maxRetries(2).build();
    RulerException e = assertThrows(RulerException.class, () -> ruler.scores(threeRollouts()));
    assertEquals(1, server.getRequestCount());
    assertTrue(e.getMessage().contains("after 1 attempt:"), e.getMessage());
  }

  @Test
  void endpointRejectingTheSchemaIsNotRetriedAndTheMessageSaysWhatToChange() {
    server.enqueue(error(400));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), true))
        .retryDelay(Duration.ZERO).maxRetries(2).build();
    RulerException e = assertThrows(RulerException.class, () -> ruler.scores(threeRollouts()));
    assertEquals(1, server.getRequestCount());
    assertTrue(e.getMessage().contains("server says 400") && e.getMessage().contains("jsonSchema(false)"),
        e.getMessage());
  }

  @Test
  void timeOutsAreRetriedThenReported() {
    MockResponse slow = new MockResponse.Builder(completion(scores(0.1, 0.1, 0.1)))
        .headersDelay(8, TimeUnit.SECONDS).build();
    server.enqueue(slow);
    server.enqueue(completion(scores(0.6, 0.5, 0.4)));
    server.enqueue(slow);
    server.enqueue(slow);
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofMillis(1500), false))
        .retryDelay(Duration.ZERO).maxRetries(1).build();

    assertEquals(List.of(0.6, 0.5, 0.4), ruler.scores(threeRollouts()).stream().map(RulerScore::score).toList());
    RulerException e = assertThrows(RulerException.class, () -> ruler.scores(threeRollouts()));
    assertEquals(4, server.getRequestCount());
    assertTrue(e.getMessage().toLowerCase().contains("timeout") || e.getMessage().toLowerCase().contains("timed out"),
        e.getMessage());
  }

  @Test
  void swallowExceptionsGivesNoGroupInsteadOfThrowing() {
    server.enqueue(error(500));
    server.enqueue(error(500));
    Ruler ruler = Ruler.builder().judge(judge(server, Duration.ofSeconds(5), false))
        .retryDelay(Duration.ZERO).maxRetries(1).swallowExceptions(true).build();
    Optional<TrajectoryGroup> out = ruler.score(TrajectoryGroup.of(threeRollouts()));
    assertTrue(out.isEmpty());
    assertEquals(2, server.getRequestCount());
  }

  /** Answers by the group marker in the request; both requests must be in flight at once. */
  private static final class TwoGroups extends Dispatcher {
    final CountDownLatch bothArrived = new CountDownLatch(2);
    volatile boolean overlapped;

    @Override
    public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
      String body = request.getBody().utf8();
      bothArrived.countDown();
      overlapped = bothArrived.await(5, TimeUnit.SECONDS);
      if (body.contains("GROUP-B")) {
        return error(500);
      }
      return completion(scores(0.25, 0.75));
    }
  }

  @Test
  void scoreAllJudgesGroupsInParallelAndSkipsFailuresWhenSwallowing() {
    TwoGroups dispatcher = new TwoGroups();
    server.setDispatcher(dispatcher);
    TrajectoryGroup a = TrajectoryGroup.of(List.of(trajectory(0, Message.assistant("GROUP-A one")),
        trajectory(0, Message.assistant("GROUP-A two"))));
    TrajectoryGroup b = TrajectoryGroup.of(List.of(trajectory(0, Message.assistant("GROUP-B one")),
        trajectory(0, Message.assistant("GROUP-B two"))));
    Ruler.Builder builder = Ruler.builder().judge(judge(server, Duration.ofSeconds(10), false))
        .retryDelay(Duration.ZERO).maxRetries(0);

    List<TrajectoryGroup> out = builder.swallowExceptions(true).build().scoreAll(List.of(b, a));

    assertTrue(dispatcher.overlapped, "the two groups' judge calls were in flight together");
    assertEquals(1, out.size());
    assertEquals(List.of(0.25, 0.75), out.get(0).trajectories().stream().map(Trajectory::reward).toList());
    assertTrue(out.get(0).trajectories().get(0).messages().get(2).content().contains("GROUP-A"));

    server.setDispatcher(new TwoGroups());
    RulerException e = assertThrows(RulerException.class,
        () -> builder.swallowExceptions(false).build().scoreAll(List.of(a, b)));
    assertTrue(e.getMessage().contains("server says 500"), e.getMessage());
  }
}
