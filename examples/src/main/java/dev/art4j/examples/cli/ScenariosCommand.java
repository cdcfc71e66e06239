package dev.art4j.examples.cli;

import dev.art4j.core.usage.TokenPrices;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.mcp.scenario.ScenarioGenerator;
import dev.art4j.mcp.scenario.ScenarioSet;
import dev.art4j.mcp.toolset.McpToolset;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code art4j scenarios}: synthesise training tasks for an MCP server's tools with an
 * OpenAI-compatible chat model (OpenAI, OpenRouter, a LiteLLM proxy, Ollama's /v1, ...).
 *
 * <pre>
 * art4j scenarios --stdio "art4j mcp serve-math" --n 24 \
 *     --base-url https://openrouter.ai/api/v1 --model openai/gpt-4.1-mini --api-key-env OPENROUTER_API_KEY \
 *     --out scenarios.json
 * </pre>
 */
@Command(name = "scenarios", mixinStandardHelpOptions = true,
    description = "Synthesise N training scenarios for an MCP server's tools with an OpenAI-compatible model; write them as JSON.")
public final class ScenariosCommand implements Callable<Integer> {

  @Mixin
  McpCommand.ServerOptions server;

  @Option(names = "--n", required = true, paramLabel = "N", description = "How many scenarios.")
  int n;

  @Option(names = "--base-url", required = true, paramLabel = "URL", description = "OpenAI-compatible API base, e.g. https://api.openai.com/v1")
  String baseUrl;

  @Option(names = "--model", required = true, paramLabel = "NAME")
  String model;

  @Option(names = "--api-key-env", defaultValue = "OPENAI_API_KEY", paramLabel = "VAR",
      description = "Environment variable holding the API key (default: ${DEFAULT-VALUE}).")
  String apiKeyEnv;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the scenarios (JSON).")
  Path out;

  @Option(names = "--instructions", paramLabel = "TEXT", description = "Custom instructions appended to the request.")
  String instructions;

  @Option(names = "--reference-answers", description = "Also ask for each task's expected answer.")
  boolean referenceAnswers;

  @Option(names = "--batch-size", defaultValue = "25", paramLabel = "B", description = "Scenarios per request (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--max-attempts", defaultValue = "3", paramLabel = "K", description = "Model replies to try at most (default: ${DEFAULT-VALUE}).")
  int maxAttempts;

  @Option(names = "--price-in", paramLabel = "USD", description = "The model's price per million prompt tokens "
      + "(with --price-out: the cost is printed on stderr).")
  Double priceIn;

  @Option(names = "--price-out", paramLabel = "USD", description = "The model's price per million completion tokens.")
  Double priceOut;

  @Override
  public Integer call() throws Exception {
    if ((priceIn == null) != (priceOut == null)) {
      System.err.println("art4j scenarios: give both --price-in and --price-out, or neither");
      return 2;
    }
    String key = System.getenv(apiKeyEnv);
    if (key == null || key.isBlank()) {
      System.err.println("art4j scenarios: $" + apiKeyEnv + " is not set; sending no API key (fine for local servers)");
      key = "none";
    }
    OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(baseUrl).apiKey(key).modelName(model)
        .timeout(Duration.ofMinutes(5)).build();
    ScenarioSet set;
    McpToolset tools = server.connectOrReport("art4j scenarios");
    if (tools == null) {
      return 2;
    }
    try (tools) {
      ScenarioGenerator.Builder b = ScenarioGenerator.builder(chat).customInstructions(instructions)
          .referenceAnswers(referenceAnswers).maxAttempts(maxAttempts).batchSize(batchSize);
      if (priceIn != null) {
        b.prices(new TokenPrices(priceIn, priceOut));
      }
      ScenarioGenerator generator = b.build();
      set = generator.generate(tools.tools(), tools.resources(), n);
      TokenUsage used = generator.usage();
      System.err.printf(Locale.ROOT, "art4j scenarios: %d requests, %d prompt + %d completion tokens%s%n", used.requests(),
          used.inputTokens(), used.outputTokens(), priceIn == null ? "" : String.format(Locale.ROOT, ", $%.6f", generator.cost()));
    }
    set.write(out);
    System.out.println(set.summary() + " -> " + out);
    return 0;
  }
}
