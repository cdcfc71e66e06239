package dev.art4j.examples.bench;

import dev.art4j.examples.cli.ComputeOptions;
import dev.art4j.examples.cli.InferenceDtypeConverter;
import dev.art4j.rollout.engine.InferenceDtype;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code art4j bench}: speed measurements printed as JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks (results as one JSON object on stdout).",
    subcommands = {BenchCommand.Decode.class, BenchTrainCommand.class, BenchLoopCommand.class, BenchSoakCommand.class})
public final class BenchCommand {

  /**
   * {@code art4j bench decode}: decode speed of the inference engine on a random-weight model of
   * Qwen2.5-0.5B's shape, against the memory-bandwidth ceiling measured in the same run. Start
   * the JVM with {@code --add-modules jdk.incubator.vector} (the engine's fast kernels).
   */
  @Command(name = "decode", mixinStandardHelpOptions = true,
      description = "Decode tokens/s at batch 1 and 8, prefill tokens/s, bandwidth ceiling, peak RSS, per-op step times; "
          + "the JSON names the device, dtype and backend.")
  static final class Decode implements Callable<Integer> {

    @Spec CommandSpec spec;
    @Mixin ComputeOptions compute = new ComputeOptions();

    @Mixin JsonOutput output = new JsonOutput();

    @Option(names = "--new-tokens", defaultValue = "32", paramLabel = "N",
        description = "Tokens decoded per sequence in each timed run (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--inference-dtype", defaultValue = "bf16", paramLabel = "auto|bf16|fp32",
        converter = InferenceDtypeConverter.class, description = InferenceDtypeConverter.HELP)
    InferenceDtype inferenceDtype;

    @Option(names = "--rounds", defaultValue = "5", paramLabel = "R",
        description = "Rounds of bandwidth probe + batch-1 + batch-8 decode; figures are the best round (default ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        spec.commandLine().getErr().println("art4j bench decode: warning: jdk.incubator.vector is not loaded, the engine "
            + "runs its plain-Java kernels; run with ART4J_JAVA_OPTS=\"-Xmx3g --add-modules jdk.incubator.vector\"");
      }
      try {
        compute.validate();
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      Map<String, Object> result = DecodeBenchmark.run(DecodeBenchmark.qwen25HalfB(), newTokens, rounds,
          compute.device(), compute.dataType(), compute.backend(), inferenceDtype);
      output.print(spec.commandLine(), result);
      return 0;
    }
  }
}
