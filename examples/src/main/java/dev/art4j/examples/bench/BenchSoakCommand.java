package dev.art4j.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.Policy;
import dev.art4j.examples.cli.InferenceDtypeConverter;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.starter.Starter;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code art4j bench soak}: many engine requests (random prompts of 16-128 tokens, 16 new tokens
 * each, {@code --concurrency} in flight) against a small model, resident memory ({@code VmRSS})
 * sampled every {@code requests / 40}. The engine's memory must stay flat:
 * {@code rss_growth_last_half_pct} = growth of RSS from the middle sample to the last, target
 * below 5%.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Engine soak: N requests, RSS sampled; prints JSON with the growth over the last half.")
public final class BenchSoakCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin JsonOutput output = new JsonOutput();

  @Option(names = "--inference-dtype", defaultValue = "auto", paramLabel = "auto|bf16|fp32",
      converter = InferenceDtypeConverter.class, description = InferenceDtypeConverter.HELP)
  InferenceDtype inferenceDtype;

  @Option(names = "--requests", defaultValue = "10000", description = "Requests (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--concurrency", defaultValue = "32", description = "Requests in flight (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint (default: the math example's starter).")
  Path model;

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    if (requests < 40 || concurrency < 1) {
      throw new CommandLine.ParameterException(cmd, "need --requests >= 40 and --concurrency >= 1");
    }
    if (model == null && System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", "1");
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    Path dir = model != null ? model : Starter.ensure(MathStarter.spec(0));
    int every = requests / 40;
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    ArrayNode samples = json.createArrayNode();
    double[] rss = new double[41];
    AtomicInteger done = new AtomicInteger();
    AtomicLong tokens = new AtomicLong();
    AtomicInteger failures = new AtomicInteger();
    long t0;
    double kvCacheMb;
    long gcCount0;
    try (Policy policy = Policy.load(dir);
         InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(1).inferenceDtype(inferenceDtype).build()) {
      int vocab = policy.config().vocabSize();
      Semaphore inFlight = new Semaphore(concurrency);
      SplittableRandom random = new SplittableRandom(11);
      rss[0] = Rss.currentMb();
      gcCount0 = gcCount();
      samples.add(round(rss[0]));
      t0 = System.nanoTime();
      for (int i = 0; i < requests; i++) {
        int[] prompt = new int[16 + random.nextInt(113)];
        for (int j = 0; j < prompt.length; j++) {
          prompt[j] = random.nextInt(vocab);
        }
        inFlight.acquire();
        CompletableFuture<Completion> f = engine.submit(prompt,
            SamplingParams.builder().temperature(1.0).maxNewTokens(16).seed(i).build());
        f.whenComplete((c, e) -> {
          if (e != null) {
            failures.incrementAndGet();
          } else {
            tokens.addAndGet(c.tokens().length);
          }
          int n = done.incrementAndGet();
          if (n % every == 0 && n / every <= 40) {
            double now = Rss.currentMb();
            synchronized (rss) {
              rss[n / every] = now;
            }
          }
          inFlight.release();
        });
      }
      inFlight.acquire(concurrency);
      kvCacheMb = engine.kvCacheBytes() / 1048576.0;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    for (int s = 1; s <= 40; s++) {
      samples.add(round(rss[s]));
    }
    double mid = rss[20];
    double last = rss[40];
    double max = 0;
    for (double v : rss) {
      max = Math.max(max, v);
    }
    out.put("model", dir.getFileName().toString());
    out.put("requests", requests);
    out.put("failures", failures.get());
    out.put("concurrency", concurrency);
    out.put("seconds", round(seconds));
    out.put("requests_per_s", round(requests / seconds));
    out.put("sampled_tok_s", round(tokens.get() / seconds));
    out.put("rss_start_mb", round(rss[0]));
    out.put("rss_mid_mb", round(mid));
    out.put("rss_end_mb", round(last));
    out.put("rss_max_mb", round(max));
    out.put("rss_growth_last_half_pct", round(100 * (last - mid) / mid));
    out.put("flat", (last - mid) / mid < 0.05);
    out.put("kv_cache_mb", round(kvCacheMb));
    out.put("gc_collections", gcCount() - gcCount0);
    out.set("rss_mb_every_" + every + "_requests", samples);
    output.print(cmd, out);
    cmd.getOut().flush();
    return failures.get() == 0 && (last - mid) / mid < 0.05 ? 0 : 1;
  }

  /** Collections by all of the JVM's collectors so far. */
  static long gcCount() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
