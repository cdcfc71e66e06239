package dev.art4j.mcp.toolset;

import dev.art4j.core.chat.ToolResult;
import dev.art4j.mcp.math.MathServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Tool-call latency and throughput through {@link McpToolset}, printed as one JSON object per
 * server: start-up (connect + list tools), sequential call latency (p50/p95), and calls per
 * second with 8 concurrent callers (a rollout group). Not a test; run with the test classpath:
 *
 * <pre>
 * java -cp "art-mcp/target/test-classes:art-mcp/target/classes:$(cat cp.txt)" dev.art4j.mcp.toolset.McpCallBenchmark
 * </pre>
 */
public final class McpCallBenchmark {

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    try (MathServer http = MathServer.startHttp(0, false)) {
      bench("bundled-math-stdio", McpToolset.builder().stdio("math", TestServers.mathServerCommand(false)), "add",
          "{\"a\": 2, \"b\": 3}", calls);
      bench("bundled-math-http", McpToolset.builder().streamableHttp("math", http.url()), "add", "{\"a\": 2, \"b\": 3}", calls);
    }
    Path calc = Path.of(System.getProperty("art4j.nodeModules", "node_modules"), ".bin", "calc-mcp");
    if (Files.isExecutable(calc)) {
      bench("calc-mcp-stdio", McpToolset.builder().stdio("calc", List.of(calc.toString())), "math",
          "{\"expression\": \"2 + 3\"}", calls);
    }
  }

  static void bench(String name, McpToolset.Builder builder, String tool, String argsJson, int calls) throws Exception {
    long t0 = System.nanoTime();
    try (McpToolset tools = builder.build()) {
      double startMs = (System.nanoTime() - t0) / 1e6;
      for (int i = 0; i < 50; i++) {
        check(tools.call(tool, argsJson));
      }
      double[] ms = new double[calls];
      for (int i = 0; i < calls; i++) {
        long s = System.nanoTime();
        check(tools.call(tool, argsJson));
        ms[i] = (System.nanoTime() - s) / 1e6;
      }
      Arrays.sort(ms);
      int threads = 8;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      long c0 = System.nanoTime();
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(pool.submit(() -> {
          for (int i = 0; i < calls / threads; i++) {
            check(tools.call(tool, argsJson));
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      double concurrentS = (System.nanoTime() - c0) / 1e9;
      pool.shutdown();
      System.out.println(String.format(Locale.ROOT,
          "{\"server\": \"%s\", \"startup_ms\": %.0f, \"calls\": %d, \"p50_ms\": %.3f, \"p95_ms\": %.3f, "
              + "\"sequential_calls_per_s\": %.0f, \"concurrent8_calls_per_s\": %.0f}",
          name, startMs, calls, ms[calls / 2], ms[(int) (calls * 0.95)], calls / (Arrays.stream(ms).sum() / 1000),
          (calls / threads * threads) / concurrentS));
    }
  }

  private static void check(ToolResult r) {
    if (r.isError()) {
      throw new IllegalStateException(r.text());
    }
  }
}
