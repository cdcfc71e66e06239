package dev.art4j.examples.cli;

import dev.art4j.rollout.engine.InferenceDtype;
import picocli.CommandLine.ITypeConverter;

/** Reads {@code --inference-dtype auto|bf16|fp32} (any case) for the commands that build an engine. */
public final class InferenceDtypeConverter implements ITypeConverter<InferenceDtype> {

  /** The option's help text, shared by every command that has it. */
  public static final String HELP = "How the inference engine holds the base weights: auto (bf16 where the "
      + "checkpoint's weights are bf16 values already, else fp32), bf16 (its own bfloat16 copy: half the bytes per "
      + "decode step, log-probs within ~3e-2 of fp32) or fp32 (read in place, exact; default ${DEFAULT-VALUE}).";

  @Override
  public InferenceDtype convert(String value) {
    return InferenceDtype.parse(value);
  }
}
