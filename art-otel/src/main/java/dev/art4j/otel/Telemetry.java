package dev.art4j.otel;

import dev.art4j.core.chat.Toolset;
import dev.art4j.core.run.HistoryEntry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleGauge;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenTelemetry traces and metrics of a training run, following the GenAI semantic conventions:
 *
 * <ul>
 *   <li>each rollout is a trace: an {@code invoke_agent <agent>} span ({@link #startRollout}) with
 *       the reward, split, step and group as attributes ({@code art4j.reward}, ...);
 *   <li>each model call in it a {@code chat <model>} span ({@link #startModelCall}) with
 *       {@code gen_ai.request.model}, {@code gen_ai.request.temperature},
 *       {@code gen_ai.request.max_tokens}, {@code gen_ai.usage.input_tokens},
 *       {@code gen_ai.usage.output_tokens} and {@code gen_ai.response.finish_reasons};
 *   <li>each tool call an {@code execute_tool <name>} span ({@link #traced}) with
 *       {@code gen_ai.tool.name}, {@code art4j.mcp.server}, its duration and, when it failed,
 *       {@code error.type} (unknown_tool, bad_arguments, server_error, timeout);
 *   <li>each training step a {@code train_step} span with the step's metrics as
 *       {@code art4j.metric.<name>} attributes ({@link #trainStep});
 *   <li>every number of {@code history.jsonl} an OTel gauge {@code art4j.<name>} ({@code /}
 *       becomes {@code .}) with the split as attribute ({@link #record}).
 * </ul>
 *
 * <p>Off by default: {@link #disabled()} costs nothing, and {@link #fromEnvironment()} stays off
 * unless an OTLP endpoint is configured with the standard variables
 * ({@code OTEL_EXPORTER_OTLP_ENDPOINT}, or the traces/metrics ones); every other {@code OTEL_*}
 * variable (headers, service name, resource attributes, sampler, intervals) then applies, and the
 * protocol defaults to OTLP/HTTP protobuf. {@link #builder()} configures it in code; {@link #of}
 * wraps an {@code OpenTelemetry} the application already has (e.g. the Java agent's). Exports go
 * to any OTLP collector: Jaeger, Arize Phoenix, Langfuse, Grafana Tempo. Thread-safe.
 */
public final class Telemetry implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Telemetry.class);
  private static final String SCOPE = "dev.art4j";
  private static final Telemetry DISABLED = new Telemetry(OpenTelemetry.noop(), null, false);

  private final OpenTelemetry otel;
  private final AutoCloseable owned;
  private final boolean enabled;
  private final Tracer tracer;
  private final Meter meter;
  private final Map<String, DoubleGauge> gauges = new ConcurrentHashMap<>();

  private Telemetry(OpenTelemetry otel, AutoCloseable owned, boolean enabled) {
    this.otel = otel;
    this.owned = owned;
    this.enabled = enabled;
    this.tracer = otel.getTracer(SCOPE);
    this.meter = otel.getMeter(SCOPE);
  }

  /** Records nothing. */
  public static Telemetry disabled() {
    return DISABLED;
  }

  /** Telemetry through an {@code OpenTelemetry} the caller owns (closing this does not close it). */
  public static Telemetry of(OpenTelemetry otel) {
    return new Telemetry(Objects.requireNonNull(otel, "otel"), null, true);
  }

  /**
   * From the standard {@code OTEL_*} environment variables (and {@code otel.*} system
   * properties): on when an OTLP endpoint is set and {@code OTEL_SDK_DISABLED} is not
   * {@code true}, otherwise {@link #disabled()}.
   */
  public static Telemetry fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /** As {@link #fromEnvironment()}, reading {@code OTEL_*} variables from {@code env}. */
  public static Telemetry fromEnvironment(Map<String, String> env) {
    Map<String, String> props = new LinkedHashMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith("OTEL_")) {
        props.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), v);
      }
    });
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith("otel.")) {
        props.put(k.toString(), v.toString());
      }
    });
    boolean endpoint = props.containsKey("otel.exporter.otlp.endpoint")
        || props.containsKey("otel.exporter.otlp.traces.endpoint")
        || props.containsKey("otel.exporter.otlp.metrics.endpoint");
    if (!endpoint || "true".equalsIgnoreCase(props.get("otel.sdk.disabled"))) {
      return DISABLED;
    }
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    defaults.put("otel.service.name", "art4j");
    defaults.put("otel.logs.exporter", "none");
    // the variables given here win over the defaults (and, for a map other than System.getenv(), over the process's)
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .addPropertiesCustomizer(config -> props)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
    log.info("OpenTelemetry on: OTLP to {}", props.getOrDefault("otel.exporter.otlp.endpoint",
        props.getOrDefault("otel.exporter.otlp.traces.endpoint", props.get("otel.exporter.otlp.metrics.endpoint"))));
    return new Telemetry(sdk, sdk, true);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether anything is recorded. */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Starts the span of one rollout and makes it current on this thread (see {@link RolloutSpan}).
   *
   * @param agent the agent's (task's) name, {@code gen_ai.agent.name}
   * @param split {@code train}, {@code val}, ...
   * @param step  the training step the rollout belongs to
   * @param group the index of its group in the step
   */
  public RolloutSpan startRollout(String agent, String split, int step, int group) {
    Span span = tracer.spanBuilder("invoke_agent " + agent).setSpanKind(SpanKind.INTERNAL)
        .setNoParent() // each rollout is a trace of its own
        .setAttribute(GenAi.OPERATION, "invoke_agent")
        .setAttribute(GenAi.AGENT_NAME, agent)
        .setAttribute(GenAi.SPLIT, split)
        .setAttribute(GenAi.STEP, (long) step)
        .setAttribute(GenAi.GROUP, (long) group)
        .startSpan();
    return new RolloutSpan(span, span.makeCurrent());
  }

  /**
   * Starts the span of one model call, a child of this thread's current span (the rollout).
   *
   * @param model       {@code gen_ai.request.model}
   * @param inputTokens the prompt's length in tokens
   */
  public ModelCallSpan startModelCall(String model, int inputTokens, double temperature, int maxTokens) {
    SpanBuilder b = tracer.spanBuilder("chat " + model).setSpanKind(SpanKind.CLIENT)
        .setParent(Context.current())
        .setAttribute(GenAi.OPERATION, "chat")
        .setAttribute(GenAi.PROVIDER, "art4j")
        .setAttribute(GenAi.REQUEST_MODEL, model)
        .setAttribute(GenAi.REQUEST_TEMPERATURE, temperature)
        .setAttribute(GenAi.REQUEST_MAX_TOKENS, (long) maxTokens)
        .setAttribute(GenAi.INPUT_TOKENS, (long) inputTokens);
    return new ModelCallSpan(b.startSpan());
  }

  /**
   * {@code tools} with every call traced (see the class comment); {@code serverOf} names the
   * MCP server of a tool (null: none), e.g. {@code name -> mcpToolset.server(name).orElse(null)}.
   * When disabled, {@code tools} itself.
   */
  public Toolset traced(Toolset tools, Function<String, String> serverOf) {
    return enabled ? new TracedToolset(tools, tracer, serverOf) : tools;
  }

  /** A {@code train_step} span from {@code start} to now, with the step's metrics as attributes. */
  public void trainStep(int step, Instant start, Map<String, Double> metrics) {
    if (!enabled) {
      return;
    }
    Span span = tracer.spanBuilder("train_step").setNoParent().setStartTimestamp(start)
        .setAttribute(GenAi.STEP, (long) step).startSpan();
    metrics.forEach((k, v) -> span.setAttribute(GenAi.METRIC_PREFIX + k, v));
    span.end();
  }

  /** Every finite number of a history line as a gauge {@code art4j.<name>} with attribute {@code art4j.split}; also {@code art4j.step}. */
  public void record(HistoryEntry entry) {
    if (!enabled) {
      return;
    }
    Attributes split = Attributes.of(AttributeKey.stringKey("art4j.split"), entry.split());
    gauge("step").set(entry.step(), split);
    entry.metrics().forEach((k, v) -> {
      if (v != null && Double.isFinite(v)) {
        gauge(k).set(v, split);
      }
    });
  }

  private DoubleGauge gauge(String metric) {
    return gauges.computeIfAbsent(instrumentName(metric), n -> meter.gaugeBuilder(n).build());
  }

  /** {@code costs/judge_total} as {@code art4j.costs.judge_total}: OTel instrument names allow {@code [A-Za-z0-9_.-]}. */
  static String instrumentName(String metric) {
    String n = "art4j." + metric.replace('/', '.').replaceAll("[^A-Za-z0-9_.\\-]", "_");
    return n.length() <= 255 ? n : n.substring(0, 255);
  }

  /** Exports what is pending (spans and metrics) and waits up to 10 s. */
  public void flush() {
    if (owned instanceof OpenTelemetrySdk sdk) {
      sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
      sdk.getSdkMeterProvider().forceFlush().join(10, TimeUnit.SECONDS);
    }
  }

  /** Exports what is pending and shuts the SDK down, if this instance created it. */
  @Override
  public void close() {
    if (owned != null) {
      flush();
      try {
        owned.close();
      } catch (Exception e) {
        log.warn("closing OpenTelemetry: {}", e.toString());
      }
    }
  }

  /** An OTLP/HTTP exporter set up in code. */
  public static final class Builder {
    private String endpoint;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String serviceName = "art4j";
    private Duration metricInterval = Duration.ofSeconds(30);

    private Builder() {}

    /** The collector's OTLP/HTTP base URL, e.g. {@code http://127.0.0.1:4318}: spans go to {@code /v1/traces}, metrics to {@code /v1/metrics}. */
    public Builder endpoint(String baseUrl) {
      this.endpoint = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      return this;
    }

    /** A header sent with every export, e.g. {@code Authorization} for Langfuse. */
    public Builder header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    /** {@code service.name} of the resource (default {@code art4j}). */
    public Builder serviceName(String name) {
      this.serviceName = Objects.requireNonNull(name, "name");
      return this;
    }

    /** How often metrics are exported (default 30 s; closing exports the last values too). */
    public Builder metricInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("metricInterval must be positive, got " + interval);
      }
      this.metricInterval = interval;
      return this;
    }

    public Telemetry build() {
      if (endpoint == null || !(endpoint.startsWith("http://") || endpoint.startsWith("https://"))) {
        throw new IllegalArgumentException("endpoint must be an http(s) URL, got " + endpoint);
      }
      Resource resource = Resource.getDefault().merge(
          Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), serviceName)));
      OtlpHttpSpanExporterBuilder spans = OtlpHttpSpanExporter.builder().setEndpoint(endpoint + "/v1/traces");
      OtlpHttpMetricExporterBuilder metrics = OtlpHttpMetricExporter.builder().setEndpoint(endpoint + "/v1/metrics");
      headers.forEach((k, v) -> {
        spans.addHeader(k, v);
        metrics.addHeader(k, v);
      });
      OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
          .setTracerProvider(SdkTracerProvider.builder().setResource(resource)
              .addSpanProcessor(BatchSpanProcessor.builder(spans.build()).build()).build())
          .setMeterProvider(SdkMeterProvider.builder().setResource(resource)
              .registerMetricReader(PeriodicMetricReader.builder(metrics.build()).setInterval(metricInterval).build())
              .build())
          .build();
      return new Telemetry(sdk, sdk, true);
    }
  }
}
