package dev.art4j.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.CheckpointException;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code art4j generate}: samples a continuation with the {@link InferenceEngine} (the same decode
 * path as rollouts) and prints {@code {"tokens", "logprobs", "logprob_temperature", "text",
 * "finish_reason"}}. {@code logprobs} are the engine's, exactly what a trajectory records and the
 * trainer's ratio is taken against: {@code log softmax(z / T)} of each chosen token at the sampling
 * temperature {@code T} (before top-k/top-p truncation; {@code T = 1} for greedy decoding), which
 * {@code logprob_temperature} states. Generation stops at an eos id (kept in {@code tokens}, left
 * out of {@code text}) unless {@code --ignore-eos}.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Sample a continuation of a prompt (token ids or text) and print it as JSON.")
public final class GenerateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin CheckpointOptions checkpoint = new CheckpointOptions();

  @ArgGroup(exclusive = true, multiplicity = "1")
  Prompt prompt;

  static final class Prompt {
    @Option(names = "--tokens", split = ",", paramLabel = "IDS", description = "Prompt as comma-separated token ids.")
    long[] tokens;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text (needs tokenizer.json in the model directory).")
    String text;
  }

  @Option(names = "--max-new-tokens", required = true, paramLabel = "N", description = "Most tokens to generate.")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T",
      description = "Sampling temperature; 0 = greedy (default ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P",
      description = "Nucleus sampling: sample from the smallest set of tokens whose probability reaches P (default ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--top-k", defaultValue = "0", paramLabel = "K",
      description = "Sample from the K most likely tokens only; 0 = all (default ${DEFAULT-VALUE}).")
  int topK;

  @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: random).")
  Long seed;

  @Option(names = "--ignore-eos", description = "Keep generating past end-of-sequence tokens.")
  boolean ignoreEos;

  @Override
  public Integer call() throws IOException {
    CommandLine cmd = spec.commandLine();
    if (maxNewTokens < 1) {
      throw new CommandLine.ParameterException(cmd, "--max-new-tokens must be at least 1");
    }
    if (!(temperature >= 0 && temperature <= 100)) { // NaN fails too: it gave token 0 every time
      throw new CommandLine.ParameterException(cmd, "--temperature must be a number in [0, 100], got " + temperature);
    }
    if (topK < 0) {
      throw new CommandLine.ParameterException(cmd, "--top-k must be >= 0");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new CommandLine.ParameterException(cmd, "--top-p must be in (0, 1], got " + topP);
    }
    try (Policy policy = checkpoint.load(cmd)) {
      Tokenizer tokenizer = policy.tokenizer().orElse(null);
      long[] ids;
      if (prompt.text != null) {
        if (tokenizer == null) {
          throw new CommandLine.ParameterException(cmd,
              "--prompt needs tokenizer.json in " + checkpoint.model + "; use --tokens");
        }
        ids = Arrays.stream(tokenizer.encode(prompt.text)).asLongStream().toArray();
      } else {
        ids = prompt.tokens;
      }
      CheckpointOptions.checkTokens(cmd, ids, policy.config().vocabSize());
      int context = policy.config().maxPositionEmbeddings();
      if ((long) ids.length + maxNewTokens > context) {
        throw new CommandLine.ParameterException(cmd, "--max-new-tokens " + maxNewTokens + " with a prompt of "
            + ids.length + " tokens is past the model's context of " + context + " (max_position_embeddings)");
      }
      SamplingParams.Builder params = SamplingParams.builder().temperature(temperature).topP(topP).topK(topK)
          .maxNewTokens(maxNewTokens).ignoreEos(ignoreEos);
      if (seed != null) {
        params.seed(seed);
      }
      Completion c;
      try (InferenceEngine engine = InferenceEngine.builder().policy(policy).backend(checkpoint.compute.backend()).build()) {
        c = engine.submit(Arrays.stream(ids).mapToInt(Math::toIntExact).toArray(), params.build()).join();
      }
      List<Integer> tokens = Arrays.stream(c.tokens()).boxed().toList();
      String finish = c.finishReason().wireName();

      ObjectMapper json = new ObjectMapper();
      ObjectNode out = json.createObjectNode();
      tokens.forEach(out.putArray("tokens")::add);
      var logprobs = out.putArray("logprobs");
      for (float lp : c.logprobs()) {
        logprobs.add(lp);
      }
      out.put("logprob_temperature", c.logprobTemperature());
      if (tokenizer != null) {
        int n = finish.equals("stop") ? tokens.size() - 1 : tokens.size();
        out.put("text", tokenizer.decode(tokens.subList(0, n).stream().mapToInt(Integer::intValue).toArray()));
      }
      out.put("finish_reason", finish);
      cmd.getOut().println(json.writeValueAsString(out));
      cmd.getOut().flush();
      return 0;
    } catch (CheckpointException | java.nio.file.NoSuchFileException e) {
      cmd.getErr().println("art4j generate: " + e.getMessage());
      return 2; // a checkpoint or adapter the user named cannot be used: bad input
    }
  }
}
