package dev.art4j.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreTest {

  @TempDir Path root;

  private static Trajectory traj(String answer, double reward) {
    Turn turn = new Turn(new int[] {1, 2, 3}, new int[] {4, 5}, new float[] {-0.5f, -1.5f});
    return Trajectory.ofMessages(List.of(Message.user("2+2?"), Message.assistant(answer)))
        .withTurns(List.of(turn)).withReward(reward).withMetric("correct", reward);
  }

  @Test
  void layoutAndRoundTrip() throws IOException {
    RunStore store = RunStore.open(root, "proj", "agent-1");
    assertEquals(root.resolve("proj/models/agent-1"), store.dir());
    List<TrajectoryGroup> groups = List.of(
        TrajectoryGroup.of(List.of(traj("4", 1), traj("5", 0))),
        TrajectoryGroup.of(List.of(traj("four", 1))));
    store.log(groups, "train", Map.of("reward", 0.66, "loss", 0.1), 1);
    store.log(groups, "val", Map.of("reward", 0.5), 1);

    Path file = root.resolve("proj/models/agent-1/trajectories/train/1.jsonl");
    assertTrue(Files.isRegularFile(file));
    String text = Files.readString(file);
    assertEquals(3, text.lines().count(), "one line per trajectory");
    assertFalse(text.contains("prompt_ids"), "tokens are not written");

    List<TrajectoryGroup> back = store.trajectories("train", 1);
    assertEquals(2, back.size());
    assertEquals(2, back.get(0).size());
    assertEquals("5", back.get(0).trajectories().get(1).messages().get(1).content());
    assertEquals(1.0, back.get(1).trajectories().get(0).reward());
    assertEquals(1.0, back.get(1).trajectories().get(0).metrics().get("correct"));
    assertTrue(back.get(0).trajectories().get(0).turns().isEmpty());

    List<HistoryEntry> h = store.history();
    assertEquals(2, h.size());
    assertEquals(1, h.get(0).step());
    assertEquals("train", h.get(0).split());
    assertEquals(0.66, h.get(0).metric("loss") + 0.56, 1e-12);
    assertEquals(List.of("val"), store.history("val").stream().map(HistoryEntry::split).toList());
    assertTrue(Double.isNaN(h.get(1).metric("loss")));
  }

  @Test
  void tornHistoryLineIsIgnoredThenRepaired() throws IOException {
    RunStore store = RunStore.open(root.resolve("m"));
    store.appendHistory(new HistoryEntry(1, "train", Map.of("loss", 1.0), null, null));
    // a kill in the middle of an append: half a JSON object, no newline
    Files.writeString(store.historyFile(), "{\"step\":2,\"split\":\"tr", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertEquals(1, store.history().size(), "torn line not read as a step");

    store.appendHistory(new HistoryEntry(2, "train", Map.of("loss", 0.5, "nan", Double.NaN), "skipped: no signal", null));
    List<HistoryEntry> h = RunStore.open(root.resolve("m")).history();
    assertEquals(2, h.size());
    assertEquals(0.5, h.get(1).metric("loss"));
    assertTrue(Double.isNaN(h.get(1).metric("nan")));
    assertEquals("skipped: no signal", h.get(1).note());
    assertFalse(Files.readString(store.historyFile()).contains("\"tr{"), "torn bytes were cut off");
  }

  @Test
  void corruptCompleteLineNamesFileAndLine() throws IOException {
    RunStore store = RunStore.open(root.resolve("m"));
    Files.writeString(store.historyFile(), "{\"step\":1,\"split\":\"train\"}\nnot json\n");
    var e = assertThrows(java.io.UncheckedIOException.class, store::history);
    assertTrue(e.getMessage().contains("history.jsonl line 2"), e.getMessage());
  }

  @Test
  void checkpointsAreAtomicAndDiscoverable() throws IOException {
    RunStore store = RunStore.open(root.resolve("m"));
    assertTrue(store.latestCheckpoint().isEmpty());
    store.writeCheckpoint(1, d -> Files.writeString(d.resolve("a.txt"), "one"));
    store.writeCheckpoint(2, d -> Files.writeString(d.resolve("a.txt"), "two"));
    // a kill while writing step 3: the writer dies half-way
    assertThrows(RuntimeException.class, () -> store.writeCheckpoint(3, d -> {
      Files.writeString(d.resolve("a.txt"), "thr");
      throw new IOException("killed");
    }));
    assertEquals(List.of(1, 2), store.checkpointSteps());
    assertEquals(store.checkpointDir(2), store.latestCheckpoint().orElseThrow());
    assertEquals("two", Files.readString(store.latestCheckpoint().orElseThrow().resolve("a.txt")));

    store.writeCheckpoint(3, d -> Files.writeString(d.resolve("a.txt"), "three"));
    store.writeCheckpoint(3, d -> Files.writeString(d.resolve("b.txt"), "again"));
    assertEquals(List.of(1, 2, 3), store.checkpointSteps());
    assertFalse(Files.exists(store.checkpointDir(3).resolve("a.txt")), "rewritten step replaced whole");
    try (var s = Files.list(store.checkpointsDir())) {
      assertEquals(3, s.count(), "no temporary folders left behind");
    }
  }

  @Test
  void deleteCheckpointsKeepsBestAndLatest() {
    RunStore store = RunStore.open(root.resolve("m"));
    for (int s = 1; s <= 5; s++) {
      store.writeCheckpoint(s, d -> Files.writeString(d.resolve("x"), "x"));
    }
    double[] val = {0.1, 0.7, 0.3, 0.2, 0.4};
    for (int s = 1; s <= 5; s++) {
      store.appendHistory(new HistoryEntry(s, "val", Map.of("reward", val[s - 1]), null, null));
      store.appendHistory(new HistoryEntry(s, "train", Map.of("reward", 1.0 - val[s - 1]), null, null));
    }
    assertEquals(List.of(1, 3, 4), store.deleteCheckpoints("val", "reward", true));
    assertEquals(List.of(2, 5), store.checkpointSteps());
    assertEquals(List.of(), store.deleteCheckpoints("train", "reward", false),
        "lowest train reward is step 2: best and latest both kept");
    assertEquals(List.of(2), store.deleteCheckpoints("train", "reward", true),
        "highest train reward of the remaining two is step 5 = latest");
    assertEquals(List.of(5), store.checkpointSteps());
  }

  @Test
  void rejectsPathLikeNames() {
    assertThrows(IllegalArgumentException.class, () -> RunStore.open(root, "../x", "m"));
    RunStore store = RunStore.open(root.resolve("m"));
    assertThrows(IllegalArgumentException.class, () -> store.trajectoriesFile("a/b", 1));
  }

  @Test
  void aCorruptLineIsReportedWhenTheStoreIsOpened() throws IOException {
    Path dir = root.resolve("m");
    RunStore.open(dir).appendHistory(new HistoryEntry(1, "train", Map.of("loss", 1.0), null, null));
    Files.writeString(dir.resolve("history.jsonl"), "{\"step\": 2, \"split\": \"tr\n", StandardOpenOption.APPEND);
    Files.writeString(dir.resolve("history.jsonl"), "{\"step\": 3, \"split\": \"train\"}\n", StandardOpenOption.APPEND);
    var e = assertThrows(java.io.UncheckedIOException.class, () -> RunStore.open(dir));
    assertTrue(e.getMessage().contains(dir.resolve("history.jsonl") + " line 2 is not a history entry"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void writeFailuresSayWhy() throws IOException {
    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(full), "needs Linux's /dev/full");
    RunStore store = RunStore.open(root.resolve("m"));
    Files.createSymbolicLink(store.historyFile(), full);
    var e = assertThrows(java.io.UncheckedIOException.class,
        () -> store.appendHistory(new HistoryEntry(1, "train", Map.of(), null, null)));
    assertTrue(e.getMessage().contains("cannot append to " + store.historyFile() + ": No space left on device"),
        e.getMessage());
    e = assertThrows(java.io.UncheckedIOException.class,
        () -> store.writeCheckpoint(1, d -> Files.write(full, new byte[] {1}))); // a write that fails (reading /dev/full never ends)
    assertTrue(e.getMessage().contains("cannot write checkpoint") && e.getMessage().contains(": "), e.getMessage());
    Files.createDirectories(store.trajectoriesFile("train", 1));
    e = assertThrows(java.io.UncheckedIOException.class,
        () -> store.log(List.of(TrajectoryGroup.of(List.of(traj("4", 1)))), "train", Map.of(), 1));
    assertTrue(e.getMessage().contains("cannot write " + store.trajectoriesFile("train", 1) + ": "), e.getMessage());
  }

  @Test
  void aCheckpointWithoutItsHistoryIsRolledBack() throws IOException {
    RunStore store = RunStore.open(root.resolve("m"));
    for (int s = 1; s <= 3; s++) {
      final int step = s;
      store.writeCheckpoint(s, d -> Files.writeString(d.resolve("a.txt"), "" + step));
      if (s < 3) {
        store.appendHistory(new HistoryEntry(s, "train", Map.of("loss", 1.0), null, null));
        store.appendHistory(new HistoryEntry(s, "train", Map.of("reward_mean", 0.5), null, null));
      }
    }
    // step 3's trainer line was written, the loop's line was not (a failed write after the checkpoint)
    store.appendHistory(new HistoryEntry(3, "train", Map.of("loss", 1.0), null, null));
    assertEquals(List.of(3), store.rollBackToCommitted("train", h -> h.metrics().containsKey("reward_mean")));
    assertEquals(List.of(1, 2), store.checkpointSteps());
    assertEquals(List.of(), store.rollBackToCommitted("train", h -> h.metrics().containsKey("reward_mean")));
  }
}
