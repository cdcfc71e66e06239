package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.examples.JudgeReplies;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code art4j train math --ruler --judge-price-in/--judge-price-out} against a judge on
 * 127.0.0.1 (MockWebServer speaking the OpenAI API) whose {@code usage} depends on the request:
 * the history's token counts and costs are the judge's own, the running total carries over a
 * resume, the rollouts' token counts are logged and the report plots the cost.
 */
class JudgeCostTest {

  static final double PRICE_IN = 3.0;
  static final double PRICE_OUT = 15.0;

  @TempDir Path dir;
  MockWebServer server;
  final AtomicInteger requests = new AtomicInteger();
  final AtomicLong promptTokens = new AtomicLong();
  final AtomicLong completionTokens = new AtomicLong();

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        try {
          String user = JudgeReplies.userMessage(request);
          int n = JudgeReplies.trajectoriesIn(user);
          // counts that differ per request, so that a sum or a cost computed from anything else is caught
          int in = 1000 + user.length();
          int out = 40 * n + 7;
          requests.incrementAndGet();
          promptTokens.addAndGet(in);
          completionTokens.addAndGet(out);
          return JudgeReplies.completion(JudgeReplies.scores(n), in, out);
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

  private int train(Path run, int steps) {
    Path model = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
    return Art4j.run("train", "math", "--model", model.toString(), "--steps", Integer.toString(steps), "--groups", "2",
        "--group-size", "2", "--val-size", "1", "--train-size", "20", "--max-tokens", "160", "--eval-every", "0", "--json",
        "--run-dir", run.toString(), "--ruler", "--judge-base-url", server.url("/v1").toString(), "--judge-model", "judge",
        "--judge-price-in", Double.toString(PRICE_IN), "--judge-price-out", Double.toString(PRICE_OUT));
  }

  @Test
  void historyLogsTheJudgesTokensAndCostPerStepAndTheRunningTotal() throws IOException {
    Path run = dir.resolve("run");
    double total = 0;
    for (int steps = 1; steps <= 2; steps++) { // the second run resumes the first at step 2
      int before = requests.get();
      long in0 = promptTokens.get();
      long out0 = completionTokens.get();
      assertEquals(0, train(run, steps));
      HistoryEntry h = last(RunStore.open(run).history("train"), steps);
      long in = promptTokens.get() - in0;
      long out = completionTokens.get() - out0;
      assertEquals(2, requests.get() - before, "one judge call per group");
      assertEquals(2.0, h.metric("judge/requests"));
      assertEquals(in, h.metric("judge/input_tokens"));
      assertEquals(out, h.metric("judge/output_tokens"));
      double cost = (in * PRICE_IN + out * PRICE_OUT) / 1e6;
      total += cost;
      assertEquals(cost, h.metric("costs/judge"), 1e-12);
      assertEquals(total, h.metric("costs/judge_total"), 1e-12, "running total at step " + steps);
      assertTrue(h.metric("rollout/sampled_tokens") > 0 && h.metric("rollout/prompt_tokens") > 0, h.metrics().toString());
      assertTrue(h.metric("tool_errors/unknown_tool") >= 0 && h.metric("tool_errors/timeout") >= 0,
          "tool-call errors by kind logged: " + h.metrics());
    }
    String report = Files.readString(run.resolve("report.html"));
    assertTrue(report.contains("Judge cost, running total ($)"), "the report plots the cost");
  }

  private static HistoryEntry last(List<HistoryEntry> train, int step) {
    HistoryEntry found = null;
    for (HistoryEntry h : train) {
      if (h.step() == step && !Double.isNaN(h.metric("costs/judge"))) {
        found = h;
      }
    }
    assertTrue(found != null, "a train line with costs at step " + step + ": " + train);
    return found;
  }
}
