package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed while writing a checkpoint (and mid-append to the history) and continued by a
 * new trainer ends bit-identical to a run that was never interrupted: same adapter, same
 * optimiser moments. LoRA dropout is on, so the RNG state must be restored too.
 */
class ResumeTest {

  @TempDir Path tmp;

  static GrpoTrainer trainer(Policy policy, RunStore store) {
    return GrpoTrainer.builder(policy)
        .config(TrainConfig.builder().learningRate(1e-3).weightDecay(0.01).linearWarmup(2).seed(11).build())
        .lora(new LoraConfig(4, 8, 0.1), 5)
        .runStore(store)
        .build();
  }

  /** A step whose checkpoint was written but whose history line was not is trained again on resume. */
  @Test
  void aCheckpointWithoutItsHistoryLineIsTrainedAgain() throws Exception {
    RunStore store = RunStore.open(tmp, "p", "gap");
    try (Policy policy = Tiny.qwen2(); GrpoTrainer t = trainer(policy, store)) {
      t.train(Tiny.fixedGroups());
      t.train(Tiny.fixedGroups());
    }
    java.nio.file.Path history = store.historyFile();
    java.util.List<String> lines = java.nio.file.Files.readAllLines(history);
    java.nio.file.Files.write(history, lines.subList(0, lines.size() - 1)); // step 2's line was never written
    try (Policy policy = Tiny.qwen2(); GrpoTrainer t = trainer(policy, store)) {
      assertEquals(1, t.step(), "resumes from the last step that has its history");
      assertEquals(java.util.List.of(1), store.checkpointSteps());
      assertEquals(2, t.train(Tiny.fixedGroups()).step());
    }
  }

  @Test
  void killedMidCheckpointResumesBitIdentical() throws Exception {
    RunStore straight = RunStore.open(tmp, "p", "straight");
    try (Policy policy = Tiny.qwen2(); GrpoTrainer t = trainer(policy, straight)) {
      for (int s = 0; s < 4; s++) {
        t.train(Tiny.fixedGroups());
      }
    }

    RunStore killed = RunStore.open(tmp, "p", "killed");
    try (Policy policy = Tiny.qwen2(); GrpoTrainer t = trainer(policy, killed)) {
      t.train(Tiny.fixedGroups());
      t.train(Tiny.fixedGroups());
      // the process dies while step 3's checkpoint is half written
      t.core().checkpointFault = dir -> {
        throw new IOException("killed");
      };
      assertThrows(RuntimeException.class, () -> t.train(Tiny.fixedGroups()));
    }
    assertEquals(List.of(1, 2), killed.checkpointSteps(), "the half-written checkpoint is not one");
    // and a kill in the middle of a history append
    Files.writeString(killed.historyFile(), "{\"step\":3,\"spl", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    try (Policy policy = Tiny.qwen2(); GrpoTrainer t = trainer(policy, killed)) {
      assertEquals(2, t.step(), "resumed from the last complete checkpoint");
      assertEquals(2, t.core().optimizer.steps());
      TrainResult r3 = t.train(Tiny.fixedGroups());
      assertEquals(3, r3.step());
      t.train(Tiny.fixedGroups());
    }

    Path a = straight.checkpointDir(4);
    Path b = killed.checkpointDir(4);
    assertEquals(-1, Files.mismatch(a.resolve("adapter_model.safetensors"), b.resolve("adapter_model.safetensors")),
        "adapters differ");
    assertEquals(-1, Files.mismatch(a.resolve("optimizer.safetensors"), b.resolve("optimizer.safetensors")),
        "optimizer states differ");
    assertEquals(List.of(1, 2, 3, 4), killed.history().stream().map(h -> h.step()).toList());

    // and the loaded adapters agree element by element (not only the files)
    try (Policy p1 = Policy.builder(Tiny.model("tiny-qwen2")).adapter(a).build();
        Policy p2 = Policy.builder(Tiny.model("tiny-qwen2")).adapter(b).build()) {
      List<NDArray> x = p1.adapter().parameters();
      List<NDArray> y = p2.adapter().parameters();
      for (int i = 0; i < x.size(); i++) {
        assertArrayEquals(x.get(i).toFloatArray(), y.get(i).toFloatArray());
      }
      float[] b0 = x.get(1).toFloatArray();
      boolean trained = false;
      for (float v : b0) {
        trained |= v != 0f;
      }
      assertTrue(trained, "B moved away from zero: the run did train");
    }
  }
}
