package dev.art4j.otel;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP/HTTP receiver on 127.0.0.1: {@code POST /v1/traces} and {@code /v1/metrics} with
 * protobuf bodies (gzip or not), decoded with the OpenTelemetry proto classes, as a collector does.
 */
final class OtlpReceiver implements AutoCloseable {

  final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
  final List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
  final List<String> contentTypes = new CopyOnWriteArrayList<>();
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/traces", ex -> {
      traces.add(ExportTraceServiceRequest.parseFrom(body(ex)));
      reply(ex, ExportTraceServiceResponse.getDefaultInstance().toByteArray());
    });
    server.createContext("/v1/metrics", ex -> {
      metrics.add(ExportMetricsServiceRequest.parseFrom(body(ex)));
      reply(ex, ExportMetricsServiceResponse.getDefaultInstance().toByteArray());
    });
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private byte[] body(HttpExchange ex) throws IOException {
    contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth != null) {
      authorizations.add(auth);
    }
    InputStream in = ex.getRequestBody();
    if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
      in = new GZIPInputStream(in);
    }
    return in.readAllBytes();
  }

  private static void reply(HttpExchange ex, byte[] bytes) throws IOException {
    ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  /** Every span received, in arrival order. */
  List<Span> spans() {
    List<Span> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : traces) {
      r.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> out.addAll(ss.getSpansList())));
    }
    return out;
  }

  /** The service.name of the resources the spans came with. */
  List<String> serviceNames() {
    List<String> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : traces) {
      r.getResourceSpansList().forEach(rs -> attr(rs.getResource().getAttributesList(), "service.name")
          .ifPresent(v -> out.add(v.getStringValue())));
    }
    return out;
  }

  /** Every metric received, in arrival order. */
  List<Metric> metricList() {
    List<Metric> out = new ArrayList<>();
    for (ExportMetricsServiceRequest r : metrics) {
      r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm -> out.addAll(sm.getMetricsList())));
    }
    return out;
  }

  static Optional<AnyValue> attr(List<KeyValue> attributes, String key) {
    return attributes.stream().filter(kv -> kv.getKey().equals(key)).map(KeyValue::getValue).findFirst();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
