package dev.art4j.rollout.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.server.OpenAiServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several servers on 127.0.0.1: balancing, stickiness, retries, a SIGKILLed server and its return. */
class FleetTest {

  static TestKit.TinyChat tiny;
  static OpenAiServer a;
  static OpenAiServer b;

  @BeforeAll
  static void start() throws Exception {
    tiny = TestKit.TinyChat.load(5);
    a = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").start();
    b = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").start();
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {a, b, tiny}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // closing
      }
    }
  }

  static int[] prompt(int i) {
    return tiny.format().tokenizer().encode("<|im_start|>user\nquestion " + i + "<|im_end|>\n<|im_start|>assistant\n");
  }

  static SamplingParams sampling(int i) {
    return SamplingParams.builder().temperature(1.0).maxNewTokens(40).ignoreEos(true).seed(1000 + i).build();
  }

  static long completed(RemoteEngine e, int server) {
    return e.servers().get(server).completed();
  }

  @Test
  void aServerKilledMidStepLosesNoRequestAndComesBackWhenItAnswersAgain(@TempDir Path tmp) throws Exception {
    int n = 40;
    int late = 8; // sent after the kill: whatever the kill caught, some reach the dead server
    List<Completion> expected = new ArrayList<>();
    for (int i = 0; i < n + late; i++) {
      expected.add(tiny.engine().submit(prompt(i), sampling(i)).get());
    }
    ServeProcess.Started child = ServeProcess.start(0, tmp.resolve("child.log"));
    // one failure ejects: the kill may catch a single request in flight, and the other server can
    // then answer all the rest, so a second failure (counted only on requests, never by probing a
    // server in rotation) may never come; counting to a threshold is the timeout test's
    try (RemoteEngine fleet = RemoteEngine.builder(List.of(a.baseUrl(), child.url())).maxInFlightPerServer(4)
        .failuresToEject(1).probeInterval(Duration.ofMillis(300)).build()) {
      List<CompletableFuture<Completion>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(fleet.submit(prompt(i), sampling(i)));
      }
      int waiting = fleet.waiting();
      long done = completed(fleet, 0) + completed(fleet, 1);
      assertTrue(n - waiting <= 8 + done, "at most 4 in flight per server: " + waiting + " waiting, " + done + " done");
      int maxInFlight = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!(completed(fleet, 1) >= 1 && fleet.servers().get(1).inFlight() >= 1)) {
        assertTrue(System.nanoTime() < deadline, "the child never answered: " + fleet.servers());
        for (ServerStatus s : fleet.servers()) {
          maxInFlight = Math.max(maxInFlight, s.inFlight());
        }
        Thread.sleep(2);
      }
      long childAnswered = completed(fleet, 1);
      child.process().destroyForcibly(); // SIGKILL mid-step
      child.process().waitFor(60, TimeUnit.SECONDS);
      // the request seen in flight may still finish before the kill lands (a fast engine, a late
      // child): requests sent now go to the idle dead server first (least in flight), so it is
      // taken out of rotation either way, and none of them may be lost
      for (int i = n; i < n + late; i++) {
        futures.add(fleet.submit(prompt(i), sampling(i)));
      }
      for (int i = 0; i < n + late; i++) {
        Completion c = futures.get(i).get(180, TimeUnit.SECONDS);
        assertArrayEquals(expected.get(i).tokens(), c.tokens(), "request " + i);
        assertArrayEquals(expected.get(i).logprobs(), c.logprobs(), 0f, "request " + i);
        for (ServerStatus s : fleet.servers()) {
          maxInFlight = Math.max(maxInFlight, s.inFlight());
        }
      }
      // the failure is recorded as its request is queued again, so another thread may answer the
      // request first: allow a moment
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (fleet.servers().get(1).up() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      ServerStatus dead = fleet.servers().get(1);
      assertFalse(dead.up(), "the killed server is out of rotation: " + fleet.servers());
      assertEquals(1, dead.dropped());
      assertEquals(n + late, completed(fleet, 0) + dead.completed(), "every request answered exactly once: " + fleet.servers());
      assertTrue(maxInFlight <= 4, "in flight on one server: " + maxInFlight);

      // a server that answers /health again is probed back into rotation and takes requests
      ServeProcess.Started again = ServeProcess.start(child.port(), tmp.resolve("child2.log"));
      try {
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!fleet.servers().get(1).up()) {
          assertTrue(System.nanoTime() < deadline, "never back: " + fleet.servers());
          Thread.sleep(50);
        }
        List<CompletableFuture<Completion>> more = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          more.add(fleet.submit(prompt(100 + i), sampling(100 + i)));
        }
        for (CompletableFuture<Completion> f : more) {
          f.get(120, TimeUnit.SECONDS);
        }
        assertTrue(completed(fleet, 1) > childAnswered, "the returned server takes requests: " + fleet.servers());
      } finally {
        again.process().destroyForcibly();
        again.process().waitFor(30, TimeUnit.SECONDS);
      }
    } finally {
      child.process().destroyForcibly();
    }
  }

  @Test
  void everyTurnOfAConversationGoesToTheServerThatHoldsItsPrefix() throws Exception {
    try (RemoteEngine fleet = RemoteEngine.builder(List.of(a.baseUrl(), b.baseUrl())).build()) {
      for (int conversation = 0; conversation < 3; conversation++) {
        int[] p = prompt(200 + conversation);
        long a0 = completed(fleet, 0);
        Completion first = fleet.submit(p, SamplingParams.builder().maxNewTokens(6).seed(conversation).build()).get();
        int home = completed(fleet, 0) > a0 ? 0 : 1;
        for (int turn = 1; turn <= 5; turn++) {
          // the next turn: everything so far, then a tool result
          int[] tool = tiny.format().tokenizer().encode("<|im_end|>\n<|im_start|>tool\n" + turn + "<|im_end|>\n<|im_start|>assistant\n");
          int[] next = new int[p.length + first.tokens().length + tool.length];
          System.arraycopy(p, 0, next, 0, p.length);
          System.arraycopy(first.tokens(), 0, next, p.length, first.tokens().length);
          System.arraycopy(tool, 0, next, p.length + first.tokens().length, tool.length);
          long before = completed(fleet, home);
          first = fleet.submit(next, SamplingParams.builder().maxNewTokens(6).seed(turn).build()).get();
          assertEquals(before + 1, completed(fleet, home), "conversation " + conversation + " turn " + turn + " left its server");
          p = next;
        }
      }
      // conversations that share nothing are spread over both
      List<CompletableFuture<Completion>> fresh = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        fresh.add(fleet.submit(prompt(300 + i), sampling(300 + i)));
      }
      long a0 = completed(fleet, 0);
      long b0 = completed(fleet, 1);
      for (CompletableFuture<Completion> f : fresh) {
        f.get();
      }
      assertTrue(completed(fleet, 0) > a0 && completed(fleet, 1) > b0, "both used: " + fleet.servers());
    }
  }

  @Test
  void anErrorInTheBodyOfAnEarly200IsThatError() throws Exception {
    try (MockWebServer late = new MockWebServer()) {
      late.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest r) {
          if (r.getUrl().encodedPath().equals("/health")) {
            return new MockResponse.Builder().code(200).build();
          }
          // art4j serve sends its status early with keep-alive whitespace: a late failure is a 200 carrying the error
          String type = r.getBody().utf8().contains("\"seed\":7,") ? "invalid_request_error" : "server_error";
          return new MockResponse.Builder().code(200).body("   {\"error\":{\"message\":\"it went wrong\",\"type\":\"" + type + "\"}}").build();
        }
      });
      late.start();
      try (RemoteEngine one = RemoteEngine.builder(List.of(late.url("/").uri())).model("tiny-chat").build()) {
        java.util.concurrent.ExecutionException bad = org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.ExecutionException.class, () -> one.submit(prompt(1), sampling(7 - 1000)).get());
        assertTrue(bad.getCause() instanceof IllegalArgumentException && bad.getCause().getMessage().contains("it went wrong"),
            bad.getCause().toString());
      }
      try (RemoteEngine fleet = RemoteEngine.builder(List.of(late.url("/").uri(), a.baseUrl())).model("tiny-chat").build()) {
        for (int i = 0; i < 4; i++) {
          Completion expected = tiny.engine().submit(prompt(500 + i), sampling(500 + i)).get();
          assertArrayEquals(expected.tokens(), fleet.submit(prompt(500 + i), sampling(500 + i)).get(60, TimeUnit.SECONDS).tokens());
        }
        assertTrue(fleet.servers().get(0).failed() >= 1, "a server error in a 200 is a failure retried elsewhere: " + fleet.servers());
      }
    }
  }

  @Test
  void failedAndTimedOutRequestsAreRetriedOnAnotherServerAndTheFailingOneIsDropped() throws Exception {
    AtomicInteger completions = new AtomicInteger();
    try (MockWebServer broken = new MockWebServer()) {
      broken.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest r) {
          if (r.getUrl().encodedPath().equals("/health")) {
            return new MockResponse.Builder().code(200).build();
          }
          // the first completion gets a 503, the next one hangs past the request time-out
          return completions.getAndIncrement() == 0
              ? new MockResponse.Builder().code(503).body("{\"error\":{\"message\":\"engine dead\"}}").build()
              : new MockResponse.Builder().code(200).headersDelay(30, TimeUnit.SECONDS).body("{}").build();
        }
      });
      broken.start();
      try (RemoteEngine fleet = RemoteEngine.builder(List.of(broken.url("/").uri(), a.baseUrl())).model("tiny-chat")
          .failuresToEject(2).requestTimeout(Duration.ofSeconds(3)).probeInterval(Duration.ofMinutes(5)).build()) {
        for (int i = 0; i < 6; i++) {
          Completion expected = tiny.engine().submit(prompt(400 + i), sampling(400 + i)).get();
          Completion got = fleet.submit(prompt(400 + i), sampling(400 + i)).get(60, TimeUnit.SECONDS);
          assertArrayEquals(expected.tokens(), got.tokens(), "request " + i);
        }
        ServerStatus s = fleet.servers().get(0);
        assertEquals(2, completions.get(), "out of rotation after two failures: " + fleet.servers());
        assertEquals(2, s.failed());
        assertFalse(s.up());
        assertEquals(6, completed(fleet, 1));
      }
    }
  }
}
