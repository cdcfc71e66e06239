package dev.art4j.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.mcp.math.MathServer;
import dev.art4j.mcp.toolset.McpToolset;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Traces and metrics exported over OTLP/HTTP to a real receiver on 127.0.0.1 that decodes the
 * protobuf it gets; tool calls go to the bundled math MCP server over streamable HTTP.
 */
class TelemetryTest {

  static MathServer math;
  static McpToolset mcp;

  @BeforeAll
  static void start() throws Exception {
    math = MathServer.startHttp(0, true);
    mcp = McpToolset.builder().streamableHttp("math", math.url()).allow("add", "division", "sleep")
        .callTimeout(Duration.ofSeconds(1)).build();
  }

  @AfterAll
  static void stop() {
    mcp.close();
    math.close();
  }

  /** One rollout on its own thread, as the gather runs them: two model calls and three tool calls. */
  private static void rollout(Telemetry telemetry, Toolset tools, int group, double reward) throws Exception {
    CompletableFuture.runAsync(() -> {
      try (RolloutSpan r = telemetry.startRollout("math", "train", 3, group)) {
        ModelCallSpan first = telemetry.startModelCall("tiny-qwen", 120, 0.8, 64);
        first.end(17, "tool_calls");
        tools.call("add", "{\"a\": 1, \"b\": 2}");
        tools.call("devide", "{\"a\": 1, \"b\": 2}");
        tools.call("sleep", "{\"seconds\": 5}");
        ModelCallSpan second = telemetry.startModelCall("tiny-qwen", 160, 0.8, 64);
        second.end(5, "stop");
        r.end(Trajectory.ofMessages(List.of(Message.user("1 + 2?"), Message.assistant("3"))).withReward(reward)
            .withMetric("prompt_tokens", 150).withMetric("sampled_tokens", 22).withMetric("tool_calls", 3)
            .withMetric("tool_errors", 2).withMetadata("finish_reason", "answer"));
      }
    }).get(60, TimeUnit.SECONDS);
  }

  @Test
  void eachRolloutIsATraceOfModelAndToolSpansWithGenAiAttributes() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      Telemetry telemetry = Telemetry.builder().endpoint(receiver.url()).serviceName("art4j-test").build();
      Toolset tools = telemetry.traced(mcp, name -> mcp.server(name).orElse(null));
      rollout(telemetry, tools, 0, 0.75);
      rollout(telemetry, tools, 1, 0.25);
      telemetry.close();

      assertTrue(receiver.contentTypes.stream().allMatch(t -> t.startsWith("application/x-protobuf")), receiver.contentTypes.toString());
      assertTrue(receiver.serviceNames().stream().allMatch("art4j-test"::equals), receiver.serviceNames().toString());
      List<Span> spans = receiver.spans();
      List<Span> rollouts = spans.stream().filter(s -> s.getName().equals("invoke_agent math")).toList();
      assertEquals(2, rollouts.size(), names(spans));
      assertNotEquals(rollouts.get(0).getTraceId(), rollouts.get(1).getTraceId(), "a trace per rollout");
      for (Span root : rollouts) {
        assertTrue(root.getParentSpanId().isEmpty(), "the rollout is the root of its trace");
        List<Span> children = spans.stream().filter(s -> s.getTraceId().equals(root.getTraceId()) && s != root).toList();
        assertEquals(5, children.size(), names(children));
        assertTrue(children.stream().allMatch(s -> s.getParentSpanId().equals(root.getSpanId())), "all children of the rollout");
        long group = attr(root, "art4j.group").getIntValue();
        assertEquals(group == 0 ? 0.75 : 0.25, attr(root, "art4j.reward").getDoubleValue());
        assertEquals(3, attr(root, "art4j.step").getIntValue());
        assertEquals("invoke_agent", attr(root, "gen_ai.operation.name").getStringValue());
        assertEquals(150, attr(root, "gen_ai.usage.input_tokens").getIntValue());
        assertEquals(22, attr(root, "gen_ai.usage.output_tokens").getIntValue());
        assertEquals("answer", attr(root, "art4j.finish_reason").getStringValue());

        List<Span> chats = children.stream().filter(s -> s.getName().equals("chat tiny-qwen")).toList();
        assertEquals(2, chats.size());
        Span chat = chats.stream().filter(s -> attr(s, "gen_ai.usage.input_tokens").getIntValue() == 120).findFirst().orElseThrow();
        assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, chat.getKind());
        assertEquals("chat", attr(chat, "gen_ai.operation.name").getStringValue());
        assertEquals("tiny-qwen", attr(chat, "gen_ai.request.model").getStringValue());
        assertEquals(0.8, attr(chat, "gen_ai.request.temperature").getDoubleValue(), 1e-9);
        assertEquals(64, attr(chat, "gen_ai.request.max_tokens").getIntValue());
        assertEquals(17, attr(chat, "gen_ai.usage.output_tokens").getIntValue());
        assertEquals("tool_calls", attr(chat, "gen_ai.response.finish_reasons").getArrayValue().getValues(0).getStringValue());

        Span add = one(children, "execute_tool add");
        assertEquals("add", attr(add, "gen_ai.tool.name").getStringValue());
        assertEquals("math", attr(add, "art4j.mcp.server").getStringValue());
        assertFalse(add.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR);
        Span typo = one(children, "execute_tool devide");
        assertEquals(Status.StatusCode.STATUS_CODE_ERROR, typo.getStatus().getCode());
        assertEquals("unknown_tool", attr(typo, "error.type").getStringValue());
        assertTrue(typo.getStatus().getMessage().startsWith("Unknown tool `devide`"), typo.getStatus().getMessage());
        Span sleep = one(children, "execute_tool sleep");
        assertEquals("timeout", attr(sleep, "error.type").getStringValue());
        long nanos = sleep.getEndTimeUnixNano() - sleep.getStartTimeUnixNano();
        assertTrue(nanos >= 900_000_000L, "the tool span lasts the call: " + nanos + " ns");
        assertTrue(root.getEndTimeUnixNano() >= sleep.getEndTimeUnixNano());
      }
    }
  }

  @Test
  void trainStepsAreSpansAndHistoryNumbersAreMetrics() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      Telemetry telemetry = Telemetry.builder().endpoint(receiver.url()).header("Authorization", "Bearer t0k")
          .metricInterval(Duration.ofMinutes(5)).build();
      Instant start = Instant.now().minusMillis(1500);
      telemetry.trainStep(5, start, Map.of("loss", 0.25, "reward_mean", 0.5));
      telemetry.record(new HistoryEntry(5, "train", Map.of("reward_mean", 0.5, "costs/judge_total", 0.0123,
          "loss", Double.NaN), null, null));
      telemetry.record(new HistoryEntry(5, "val", Map.of("reward_mean", 0.625), null, null));
      telemetry.close(); // exports the metrics long before the 5-minute interval

      Span step = one(receiver.spans(), "train_step");
      assertEquals(5, attr(step, "art4j.step").getIntValue());
      assertEquals(0.25, attr(step, "art4j.metric.loss").getDoubleValue());
      assertTrue(step.getEndTimeUnixNano() - step.getStartTimeUnixNano() >= 1_400_000_000L, "from the step's start");
      assertTrue(receiver.authorizations.stream().allMatch("Bearer t0k"::equals) && !receiver.authorizations.isEmpty());

      Map<String, Double> reward = gauge(receiver, "art4j.reward_mean");
      assertEquals(Map.of("train", 0.5, "val", 0.625), reward);
      assertEquals(Map.of("train", 0.0123), gauge(receiver, "art4j.costs.judge_total"));
      assertEquals(Map.of("train", 5.0, "val", 5.0), gauge(receiver, "art4j.step"));
      assertTrue(receiver.metricList().stream().noneMatch(m -> m.getName().equals("art4j.loss")), "NaN is not exported");
    }
  }

  @Test
  void offByDefaultAndOnWithTheStandardEnvironmentVariables() throws Exception {
    Telemetry off = Telemetry.fromEnvironment(Map.of("OTEL_SERVICE_NAME", "x"));
    assertFalse(off.enabled(), "no endpoint, no telemetry");
    assertSame(mcp, off.traced(mcp, n -> null));
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      assertFalse(Telemetry.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url(),
          "OTEL_SDK_DISABLED", "true")).enabled());
      Telemetry on = Telemetry.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url(),
          "OTEL_SERVICE_NAME", "from-env", "OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic abc",
          "OTEL_BSP_SCHEDULE_DELAY", "100"));
      assertTrue(on.enabled());
      Toolset tools = on.traced(mcp, name -> mcp.server(name).orElse(null));
      CompletableFuture.runAsync(() -> {
        try (RolloutSpan r = on.startRollout("math", "val", 0, 2)) {
          tools.call("division", "{\"a\": 1, \"b\": 0}");
          r.end(Trajectory.ofMessages(List.of(Message.user("1/0?"))).withReward(0.0));
        }
      }).get(30, TimeUnit.SECONDS);
      on.close();
      assertEquals(List.of("from-env"), receiver.serviceNames().stream().distinct().toList());
      assertTrue(receiver.authorizations.contains("Basic abc"), receiver.authorizations.toString());
      assertTrue(receiver.contentTypes.stream().allMatch(t -> t.startsWith("application/x-protobuf")), "OTLP/HTTP protobuf by default");
      Span division = one(receiver.spans(), "execute_tool division");
      assertEquals("server_error", attr(division, "error.type").getStringValue());
      assertEquals(one(receiver.spans(), "invoke_agent math").getSpanId(), division.getParentSpanId());
    }
  }

  /** Per split, the last value of the gauge {@code name}. */
  private static Map<String, Double> gauge(OtlpReceiver receiver, String name) {
    Map<String, Double> out = new java.util.TreeMap<>();
    for (Metric m : receiver.metricList()) {
      if (m.getName().equals(name)) {
        assertTrue(m.hasGauge(), name + " is a gauge");
        for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
          out.put(OtlpReceiver.attr(p.getAttributesList(), "art4j.split").orElseThrow().getStringValue(), p.getAsDouble());
        }
      }
    }
    return out;
  }

  private static Span one(List<Span> spans, String name) {
    List<Span> found = spans.stream().filter(s -> s.getName().equals(name)).toList();
    assertEquals(1, found.size(), name + " in " + names(spans));
    return found.get(0);
  }

  private static AnyValue attr(Span s, String key) {
    return OtlpReceiver.attr(s.getAttributesList(), key)
        .orElseThrow(() -> new AssertionError(s.getName() + " has no attribute " + key + ": " + s.getAttributesList()));
  }

  private static String names(List<Span> spans) {
    return spans.stream().map(Span::getName).toList().toString();
  }
}
