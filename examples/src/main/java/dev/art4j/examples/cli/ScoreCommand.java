package dev.art4j.examples.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.model.CheckpointException;
import dev.art4j.core.model.Policy;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code art4j score}: log-probabilities of a token sequence under a checkpoint, as one JSON
 * object: {@code next_token_logprobs[i] = log p(t[i+1] | t[0..i])} and the full log-softmax after
 * the last token.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = "Print the log-prob of each token given the ones before it, and the full log-softmax after the last one, as JSON.")
public final class ScoreCommand implements Callable<Integer> {

  @Spec CommandSpec spec;
  @Mixin CheckpointOptions checkpoint = new CheckpointOptions();

  @Option(names = "--tokens", required = true, split = ",", paramLabel = "IDS",
      description = "Comma-separated token ids, e.g. 5,17,42.")
  long[] tokens;

  @Override
  public Integer call() throws IOException {
    if (checkpoint.compute.backend != null) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--backend: score runs the model's own forward, not the inference engine (use --device/--dtype)");
    }
    try (Policy policy = checkpoint.load(spec.commandLine(), false)) {
      CheckpointOptions.checkTokens(spec.commandLine(), tokens, policy.config().vocabSize());
      ObjectMapper json = new ObjectMapper();
      ObjectNode out = json.createObjectNode();
      try (NDManager step = policy.manager().newSubManager()) {
        NDArray logits = policy.model().forward(step.create(tokens).reshape(1, tokens.length), policy.adapter());
        NDArray lp = logits.get(0).logSoftmax(-1); // (T, V)
        ArrayNode next = out.putArray("next_token_logprobs");
        for (int i = 0; i + 1 < tokens.length; i++) {
          next.add(lp.getFloat(i, tokens[i + 1]));
        }
        ArrayNode last = out.putArray("last_position_logprobs");
        for (float v : lp.get(tokens.length - 1).toFloatArray()) {
          last.add(v);
        }
      }
      spec.commandLine().getOut().println(json.writeValueAsString(out));
      spec.commandLine().getOut().flush();
      return 0;
    } catch (CheckpointException | java.nio.file.NoSuchFileException e) {
      spec.commandLine().getErr().println("art4j score: " + e.getMessage());
      return 2; // a checkpoint or adapter the user named cannot be used: bad input
    }
  }
}
