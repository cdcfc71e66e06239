package dev.art4j.rollout.server;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** Counters behind {@code GET /metrics}, written in Prometheus' text format. */
final class ServerMetrics {

  final AtomicLong requests = new AtomicLong();
  final AtomicLong succeeded = new AtomicLong();
  final AtomicLong cancelled = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();
  final AtomicLong promptTokens = new AtomicLong();
  final AtomicLong generationTokens = new AtomicLong();
  private final long started = System.nanoTime();

  String render(int running, int waiting, double kvUsage) {
    double seconds = (System.nanoTime() - started) / 1e9;
    StringBuilder sb = new StringBuilder();
    gauge(sb, "art4j_requests_running", "Requests being sampled now.", running);
    gauge(sb, "art4j_requests_waiting", "Requests waiting for a worker.", waiting);
    gauge(sb, "art4j_kv_cache_usage", "Fraction of the engine's KV cache in use (NaN if unknown).", kvUsage);
    counter(sb, "art4j_requests_total", "Sampling requests received.", requests.get());
    counter(sb, "art4j_requests_succeeded_total", "Sampling requests answered.", succeeded.get());
    counter(sb, "art4j_requests_cancelled_total", "Requests whose client went away (cancelled in the engine).", cancelled.get());
    counter(sb, "art4j_requests_rejected_total", "Requests answered 429 because the queue was full.", rejected.get());
    counter(sb, "art4j_prompt_tokens_total", "Prompt tokens of answered requests.", promptTokens.get());
    counter(sb, "art4j_generation_tokens_total", "Tokens sampled for answered requests.", generationTokens.get());
    gauge(sb, "art4j_generation_tokens_per_second", "Sampled tokens per second since the server started.",
        generationTokens.get() / Math.max(seconds, 1e-9));
    return sb.toString();
  }

  private static void gauge(StringBuilder sb, String name, String help, double v) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" gauge\n");
    sb.append(name).append(' ').append(format(v)).append('\n');
  }

  private static void counter(StringBuilder sb, String name, String help, long v) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" counter\n");
    sb.append(name).append(' ').append(v).append('\n');
  }

  private static String format(double v) {
    return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.6g", v);
  }
}
