package dev.art4j.rollout.server;

import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * 32 concurrent streaming chat clients over HTTP against the engine's own figure for the same 32
 * requests submitted directly, on the tiny-chat fixture. Prints one JSON line. Usage:
 * {@code java ... dev.art4j.rollout.server.ServeBench [clients] [tokens]}.
 */
public final class ServeBench {

  public static void main(String[] args) throws Exception {
    int clients = args.length > 0 ? Integer.parseInt(args[0]) : 32;
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    try (TestKit.TinyChat tiny = TestKit.TinyChat.load(1);
        OpenAiServer server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").start()) {
      SamplingParams p = SamplingParams.builder().temperature(1).maxNewTokens(tokens).ignoreEos(true).build();
      // warm up both paths
      run(tiny, p, clients, 0);
      http(server, clients, tokens, 0);
      double engine = run(tiny, p, clients, 1);
      double served = http(server, clients, tokens, 1);
      System.out.printf("{\"clients\": %d, \"tokens_each\": %d, \"engine_tok_s\": %.1f, \"http_streaming_tok_s\": %.1f, \"ratio\": %.3f}%n",
          clients, tokens, engine, served, served / engine);
    }
  }

  /** Aggregate tokens/s of {@code clients} requests submitted to the engine at once. */
  static double run(TestKit.TinyChat tiny, SamplingParams p, int clients, int round) throws Exception {
    int[] prompt = tiny.format().tokenizer().encode("<|im_start|>user\nbench " + round + "<|im_end|>\n<|im_start|>assistant\n");
    long t0 = System.nanoTime();
    List<CompletableFuture<Completion>> fs = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      int[] q = prompt.clone();
      q[q.length - 4] = 100 + i; // distinct prompts, as distinct clients send
      fs.add(tiny.engine().submit(q, p));
    }
    long n = 0;
    for (CompletableFuture<Completion> f : fs) {
      n += f.get().tokens().length;
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /** Aggregate tokens/s of {@code clients} streaming chat requests over HTTP, counted from the usage chunks. */
  static double http(OpenAiServer server, int clients, int tokens, int round) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long t0 = System.nanoTime();
    List<CompletableFuture<HttpResponse<Stream<String>>>> fs = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"bench " + round + " " + i + "\"}],\"max_tokens\":" + tokens
          + ",\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
      fs.add(http.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofLines()));
    }
    long n = 0;
    for (CompletableFuture<HttpResponse<Stream<String>>> f : fs) {
      for (String line : (Iterable<String>) f.get().body()::iterator) {
        int at = line.indexOf("\"completion_tokens\":");
        if (at >= 0) {
          n += Long.parseLong(line.substring(at + 20).split("[,}]")[0].trim());
        }
      }
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }
}
