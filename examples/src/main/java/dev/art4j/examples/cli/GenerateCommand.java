package dev.art4j.examples.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.CheckpointException;
import dev.art4j.core.model.KvCache;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code art4j generate}: samples a continuation with the KV cache (prefill once, then one new
 * token per decode step) and prints {@code {"tokens", "logprobs", "text", "finish_reason"}}.
 * {@code logprobs} are the model's own log-probs of the chosen tokens (log-softmax of the raw
 * logits, before temperature and top-p). Generation stops at an eos id (kept in {@code tokens},
 * left out of {@code text}) unless {@code --ignore-eos}.
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
      Set<Integer> eos = new LinkedHashSet<>(policy.config().eosTokenIds());
      if (tokenizer != null) {
        eos.addAll(tokenizer.eosTokenIds());
      }

      Random random = seed == null ? new Random() : new Random(seed);
      List<Integer> tokens = new ArrayList<>();
      List<Double> logprobs = new ArrayList<>();
      String finish = "length";
      try (KvCache cache = KvCache.create(policy.config(), ids.length + maxNewTokens, policy.manager())) {
        long[] input = ids;
        for (int i = 0; i < maxNewTokens; i++) {
          try (NDManager step = policy.manager().newSubManager()) {
            int past = cache.length();
            long[] positions = new long[input.length];
            for (int j = 0; j < input.length; j++) {
              positions[j] = past + j;
            }
            NDArray logits = policy.model().forward(
                step.create(input).reshape(1, input.length),
                step.create(positions).reshape(1, input.length),
                step.ones(new Shape(1, past + input.length), DataType.INT64),
                cache, policy.adapter());
            float[] last = logits.get(0, input.length - 1).toFloatArray(); // (V)
            int next = Sampling.sample(last, temperature, topP, random);
            tokens.add(next);
            logprobs.add(Sampling.logSoftmax(last, next));
            input = new long[] {next};
          }
          if (!ignoreEos && eos.contains(tokens.get(tokens.size() - 1))) {
            finish = "stop";
            break;
          }
        }
      }

      ObjectMapper json = new ObjectMapper();
      ObjectNode out = json.createObjectNode();
      tokens.forEach(out.putArray("tokens")::add);
      logprobs.forEach(out.putArray("logprobs")::add);
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
