package dev.art4j.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code trainer_state.json} of a checkpoint: where training stands, enough to continue it.
 * Randomness (LoRA dropout) is re-seeded at every step with {@code seed + step}, so the RNG state
 * is the seed and the step.
 *
 * @param step           the last completed step
 * @param optimizerSteps AdamW's {@code t} (skipped steps do not advance it)
 * @param trainer        {@code grpo} or {@code sft}
 * @param seed           the base seed
 * @param nextStepSeed   the seed the next step will use
 * @param config         the configuration in use when the checkpoint was written
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record TrainerState(
    @JsonProperty("step") int step,
    @JsonProperty("optimizer_steps") int optimizerSteps,
    @JsonProperty("trainer") String trainer,
    @JsonProperty("seed") long seed,
    @JsonProperty("next_step_seed") long nextStepSeed,
    @JsonProperty("config") TrainConfig config) {

  static final String FILE = "trainer_state.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  void write(Path dir) throws IOException {
    Files.write(dir.resolve(FILE), JSON.writeValueAsBytes(this));
  }

  static TrainerState read(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    try {
      TrainerState s = JSON.readValue(file.toFile(), TrainerState.class);
      if (s.step() < 0 || s.optimizerSteps() < 0) {
        throw new IOException(file + ": negative step");
      }
      return s;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(file + ": not a trainer state: " + e.getOriginalMessage(), e);
    }
  }
}
