package dev.art4j.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.server.OpenAiServer;
import dev.art4j.template.ChatTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code art4j serve}: the model (and adapter) behind an OpenAI-compatible API. Prints
 * {@code {"url": ..., "model": ...}} on stdout once listening, then serves until interrupted.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve a model over an OpenAI- and vLLM-compatible HTTP API (/v1/chat/completions, /v1/completions, "
        + "/v1/models, /v1/load_lora_adapter, /tokenize, /health, /metrics, /v1/trajectories; see art-rollout/docs/server.md).")
public final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin CheckpointOptions checkpoint = new CheckpointOptions();

  @Option(names = "--inference-dtype", defaultValue = "auto", paramLabel = "auto|bf16|fp32",
      converter = InferenceDtypeConverter.class, description = InferenceDtypeConverter.HELP)
  InferenceDtype inferenceDtype;

  @Option(names = "--port", defaultValue = "8000", paramLabel = "P", description = "Port (default ${DEFAULT-VALUE}; 0 = any free port).")
  int port;

  @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST",
      description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
  String host;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:ART4J_API_KEY}",
      description = "Require 'Authorization: Bearer KEY' (default: env ART4J_API_KEY, else no key).")
  String apiKey;

  @Option(names = "--name", paramLabel = "NAME", description = "Model id shown to clients (default: the model directory's name).")
  String name;

  @Option(names = "--max-new-tokens", defaultValue = "1024", paramLabel = "N",
      description = "Reply length when a request gives no max_tokens (default ${DEFAULT-VALUE}).")
  int maxNewTokens;

  private final CountDownLatch stopped = new CountDownLatch(1);

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(cmd, "--port must be in 0..65535, got " + port);
    }
    if (maxNewTokens < 1) {
      throw new CommandLine.ParameterException(cmd, "--max-new-tokens must be at least 1");
    }
    if (!Tokenizer.exists(checkpoint.model)) {
      throw new CommandLine.ParameterException(cmd, "--model " + checkpoint.model + " has no tokenizer.json: serving needs a tokenizer");
    }
    try (Policy policy = checkpoint.load(cmd)) {
      Tokenizer tokenizer = policy.tokenizer().orElseThrow();
      Path config = checkpoint.model.resolve("tokenizer_config.json");
      ChatTemplate template = Files.isRegularFile(config) ? ChatTemplate.fromTokenizerConfig(config) : ChatTemplate.chatml();
      ChatFormat format = ChatFormat.of(template, tokenizer);
      String model = name != null ? name : checkpoint.model.toAbsolutePath().normalize().getFileName().toString();
      try (InferenceEngine engine = InferenceEngine.builder().model(policy.model()).adapter(policy.adapter())
              .backend(checkpoint.compute.backend())
              .inferenceDtype(inferenceDtype)
              .detokenizer(tokenizer::decode).eosTokenIds(tokenizer.eosTokenIds()).build();
          OpenAiServer server = OpenAiServer.builder(engine, format).host(host).port(port).apiKey(apiKey).modelName(model)
              .sampling(SamplingParams.builder().maxNewTokens(maxNewTokens).build()).start()) {
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("url", server.baseUrl().toString());
        ready.put("model", model);
        ready.put("adapter", checkpoint.adapter == null ? null : checkpoint.adapter.toString());
        ready.put("device", policy.device().toString());
        ready.put("dtype", policy.model().dataType().toString().toLowerCase(java.util.Locale.ROOT));
        ready.put("backend", engine.backend().name().toLowerCase(java.util.Locale.ROOT));
        System.out.println(new ObjectMapper().writeValueAsString(ready));
        System.out.flush();
        Thread shutdown = new Thread(stopped::countDown, "art4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        try {
          stopped.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          try {
            Runtime.getRuntime().removeShutdownHook(shutdown);
          } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running: nothing to remove
          }
        }
      }
    }
    return 0;
  }
}
