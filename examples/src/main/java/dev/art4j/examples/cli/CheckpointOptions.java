package dev.art4j.examples.cli;

import dev.art4j.core.model.Policy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --model DIR [--adapter DIR]} and the {@link ComputeOptions}: shared by score, generate and serve. */
final class CheckpointOptions {

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "Hugging Face checkpoint directory (config.json + safetensors).")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR",
      description = "PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors).")
  Path adapter;

  @Option(names = "--partial-adapter",
      description = "Accept an adapter whose tensors and target_modules disagree: apply what fits, log what is left out"
          + " (refused by default).")
  boolean partialAdapter;
  @Mixin ComputeOptions compute = new ComputeOptions();

  Policy load(CommandLine cmd) throws IOException {
    return load(cmd, true);
  }

  /** The checkpoint, with its tokenizer when {@code tokenizer} (score needs none: a broken one must not stop it). */
  Policy load(CommandLine cmd, boolean tokenizer) throws IOException {
    if (!Files.isDirectory(model)) {
      throw new CommandLine.ParameterException(cmd, "--model " + model + ": not a directory");
    }
    if (adapter != null && !Files.isDirectory(adapter)) {
      throw new CommandLine.ParameterException(cmd, "--adapter " + adapter + ": not a directory");
    }
    try {
      compute.validate();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cmd, e.getMessage());
    }
    return compute.apply(Policy.builder(model)).adapter(adapter).partialAdapter(partialAdapter).tokenizer(tokenizer).build();
  }

  static long[] checkTokens(CommandLine cmd, long[] tokens, int vocab) {
    if (tokens == null || tokens.length == 0) {
      throw new CommandLine.ParameterException(cmd, "--tokens: give at least one token id");
    }
    for (long t : tokens) {
      if (t < 0 || t >= vocab) {
        throw new CommandLine.ParameterException(cmd, "--tokens: id " + t + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
    return tokens;
  }
}
