package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code art4j train math} with OpenTelemetry switched on ({@code otel.exporter.otlp.endpoint},
 * the system-property twin of {@code OTEL_EXPORTER_OTLP_ENDPOINT}) against an OTLP/HTTP receiver
 * on 127.0.0.1 that decodes the protobuf: every rollout is a trace with its model calls (and tool
 * calls, when the model made some), each step a span, the history numbers arrive as metrics.
 */
class TrainTelemetryTest {

  @TempDir Path dir;

  @Test
  void aTrainingRunExportsRolloutTracesStepSpansAndMetrics() throws Exception {
    List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
    List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
    HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext("/v1/traces", ex -> {
      traces.add(ExportTraceServiceRequest.parseFrom(ex.getRequestBody().readAllBytes()));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    receiver.createContext("/v1/metrics", ex -> {
      metrics.add(ExportMetricsServiceRequest.parseFrom(ex.getRequestBody().readAllBytes()));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    receiver.start();
    Path model = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-chat");
    Path run = dir.resolve("run");
    System.setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:" + receiver.getAddress().getPort());
    int rc;
    try {
      rc = Art4j.run("train", "math", "--model", model.toString(), "--steps", "1", "--groups", "2", "--group-size", "2",
          "--val-size", "2", "--train-size", "20", "--max-tokens", "160", "--json", "--run-dir", run.toString());
    } finally {
      System.clearProperty("otel.exporter.otlp.endpoint");
      receiver.stop(0);
    }
    assertEquals(0, rc);

    List<Span> spans = new ArrayList<>();
    traces.forEach(r -> r.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> spans.addAll(ss.getSpansList()))));
    List<Span> rollouts = spans.stream().filter(s -> s.getName().equals("invoke_agent math")).toList();
    // 2 held-out rollouts before step 1 and 2 after it, 2 groups x 2 in step 1
    assertEquals(8, rollouts.size(), spans.stream().map(Span::getName).distinct().toList().toString());
    assertEquals(8, rollouts.stream().map(Span::getTraceId).distinct().count(), "a trace per rollout");
    assertEquals(Set.of("train", "val"), rollouts.stream().map(s -> attr(s, "art4j.split").getStringValue()).collect(Collectors.toSet()));
    for (Span r : rollouts) {
      List<Span> chats = spans.stream().filter(s -> s.getParentSpanId().equals(r.getSpanId()) && s.getName().startsWith("chat ")).toList();
      assertFalse(chats.isEmpty(), "every rollout calls the model");
      long sampled = chats.stream().mapToLong(c -> attr(c, "gen_ai.usage.output_tokens").getIntValue()).sum();
      assertEquals(attr(r, "gen_ai.usage.output_tokens").getIntValue(), sampled, "the rollout's tokens are its calls' tokens");
      assertEquals("tiny-chat", attr(chats.get(0), "gen_ai.request.model").getStringValue());
      long toolCalls = attr(r, "art4j.tool_calls").getIntValue();
      List<Span> tools = spans.stream().filter(s -> s.getParentSpanId().equals(r.getSpanId()) && s.getName().startsWith("execute_tool ")).toList();
      // calls the agent loop rejects before the toolset (unknown name, bad JSON) have no tool span
      assertTrue(tools.size() <= toolCalls, tools.size() + " tool spans, " + toolCalls + " calls");
      for (Span t : tools) {
        if (!t.getAttributesList().stream().anyMatch(kv -> kv.getKey().equals("error.type"))) {
          assertEquals("math", attr(t, "art4j.mcp.server").getStringValue());
        }
      }
    }
    Span step = spans.stream().filter(s -> s.getName().equals("train_step")).findFirst().orElseThrow();
    HistoryEntry line = RunStore.open(run).history("train").stream().filter(h -> !Double.isNaN(h.metric("reward_mean")))
        .findFirst().orElseThrow();
    assertEquals(line.metric("reward_mean"), attr(step, "art4j.metric.reward_mean").getDoubleValue(), 1e-12);
    Set<String> names = new java.util.HashSet<>();
    metrics.forEach(r -> r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm -> sm.getMetricsList()
        .forEach(m -> names.add(m.getName())))));
    assertTrue(names.containsAll(Set.of("art4j.reward_mean", "art4j.success_rate", "art4j.rollout.sampled_tokens",
        "art4j.tool_errors.unknown_tool")), names.toString());
  }

  private static AnyValue attr(Span s, String key) {
    return s.getAttributesList().stream().filter(kv -> kv.getKey().equals(key)).map(KeyValue::getValue).findFirst()
        .orElseThrow(() -> new AssertionError(s.getName() + " lacks " + key + ": " + s.getAttributesList()));
  }
}
