package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import org.junit.jupiter.api.Test;

/** A device out-of-memory error in a training step names the knobs; other errors pass through. */
class OutOfMemoryMessageTest {

  @Test
  void outOfMemoryNamesTheTokenBudgetAndCheckpointing() {
    // the text libtorch gives on CUDA
    RuntimeException e = TrainingLoop.outOfMemory(new EngineException(
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity)"));
    assertTrue(e instanceof IllegalStateException, e.toString());
    assertTrue(e.getMessage().contains("TrainConfig.tokenBudget") && e.getMessage().contains("activationCheckpointing"),
        e.getMessage());
    RuntimeException other = new EngineException("shape mismatch");
    assertSame(other, TrainingLoop.outOfMemory(other));
  }
}
