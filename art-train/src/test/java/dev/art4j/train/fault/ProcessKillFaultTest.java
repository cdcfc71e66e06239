package dev.art4j.train.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real child JVM ({@link KillableTraining}) is killed with SIGKILL while it writes a checkpoint,
 * while it appends to {@code history.jsonl}, and at random moments of GRPO steps. After every
 * kill the run store holds only complete checkpoints and parseable history and trajectory
 * files, and a restart resumes from the last complete step.
 */
class ProcessKillFaultTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> CHECKPOINT_FILES =
      List.of("adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "trainer_state.json");

  @TempDir Path dir;

  static Path model() {
    return Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
        .resolve("models/tiny-qwen2");
  }

  /** A running child: its stdout lines arrive in {@link #lines}. */
  final class Child implements AutoCloseable {
    final Process process;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    Child(String... args) throws IOException {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
          "-cp", System.getProperty("java.class.path"), KillableTraining.class.getName()));
      cmd.addAll(List.of(args));
      process = new ProcessBuilder(cmd).redirectError(dir.resolve("child-stderr.log").toFile()).start();
      Thread pump = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line = r.readLine(); line != null; line = r.readLine()) {
            lines.add(line);
          }
        } catch (IOException ignored) {
          // the child was killed
        }
      });
      pump.setDaemon(true);
      pump.start();
    }

    /** The next stdout line, which must start with {@code prefix}. */
    String expect(String prefix) throws Exception {
      String line = lines.poll(120, TimeUnit.SECONDS);
      assertNotNull(line, "child printed nothing after waiting for '" + prefix + "'; stderr:\n" + stderrTail());
      assertTrue(line.startsWith(prefix), "expected '" + prefix + "...', got '" + line + "'");
      return line;
    }

    void sigkill() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL on Linux
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    }

    int awaitExit() throws Exception {
      assertTrue(process.waitFor(180, TimeUnit.SECONDS), "child did not finish");
      return process.exitValue();
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }

  String stderrTail() throws IOException {
    Path f = dir.resolve("child-stderr.log");
    if (!Files.exists(f)) {
      return "";
    }
    String s = Files.readString(f);
    return s.substring(Math.max(0, s.length() - 3000));
  }

  int trainTo(Path run, int step) throws Exception {
    try (Child c = new Child("train", model().toString(), run.toString(), Integer.toString(step))) {
      int resumed = Integer.parseInt(c.expect("resumed ").substring(8));
      assertEquals(0, c.awaitExit(), stderrTail());
      return resumed;
    }
  }

  @Test
  void killDuringCheckpointWriteLeavesTheLastCompleteCheckpointToResumeFrom() throws Exception {
    Path run = dir.resolve("run");
    assertEquals(0, trainTo(run, 2));
    try (Child c = new Child("slow-checkpoint", model().toString(), run.toString())) {
      c.expect("resumed 2");
      c.expect("writing");
      c.sigkill();
    }
    RunStore store = RunStore.open(run);
    try (Stream<Path> s = Files.list(store.checkpointsDir())) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith(".")), "the torn checkpoint is left hidden");
    }
    assertEquals(List.of(1, 2), store.checkpointSteps(), "the half-written step 3 is not a checkpoint");
    assertStoreIntact(run);

    assertEquals(2, trainTo(run, 3), "resumes from the last complete step");
    assertEquals(List.of(1, 2, 3), RunStore.open(run).checkpointSteps());
    try (Stream<Path> s = Files.list(store.checkpointsDir())) {
      assertEquals(List.of("1", "2", "3"), s.map(p -> p.getFileName().toString()).sorted().toList(),
          "the next checkpoint write removed the torn one");
    }
    assertStoreIntact(run);
    assertEquals(List.of(1, 2, 3), RunStore.open(run).history("train").stream().map(HistoryEntry::step).toList());
  }

  @Test
  void killsAtRandomMomentsOfTrainingStepsNeverCorruptTheRunStore() throws Exception {
    Path run = dir.resolve("run");
    Random random = new Random(42);
    int lastCheckpoint = 0;
    for (int round = 0; round < 2; round++) {
      try (Child c = new Child("train", model().toString(), run.toString(), "1000")) {
        assertEquals("resumed " + lastCheckpoint, c.expect("resumed "), "resume from the latest complete checkpoint");
        c.expect("done "); // at least one step per round, so the run moves on
        Thread.sleep(random.nextInt(400));
        c.sigkill();
      }
      assertStoreIntact(run);
      int latest = latestCommittedCheckpoint(run);
      assertTrue(latest > lastCheckpoint, "round " + round + " made progress");
      lastCheckpoint = latest;
    }
    assertEquals(lastCheckpoint, trainTo(run, lastCheckpoint + 1));
    assertStoreIntact(run);
    assertAllHistoryLinesParse(run);
  }

  @Test
  void killDuringHistoryAppendLosesAtMostTheTornLine() throws Exception {
    Path run = dir.resolve("run");
    Random random = new Random(7);
    int torn = 0;
    for (int round = 0; round < 2; round++) {
      int before = RunStore.open(run).history().size();
      try (Child c = new Child("append", run.toString(), "0")) {
        c.expect("appending");
        Thread.sleep(300 + random.nextInt(600));
        c.sigkill();
      }
      RunStore store = RunStore.open(run);
      String raw = Files.readString(store.historyFile());
      if (!raw.isEmpty() && !raw.endsWith("\n")) {
        torn++;
      }
      List<HistoryEntry> entries = store.history(); // complete lines only; throws on a corrupt one
      assertTrue(entries.size() >= before);
      for (int i = 0; i < entries.size(); i++) {
        assertEquals(i + 1, entries.get(i).step(), "entries are consecutive: nothing lost before the torn line");
        assertEquals(1_000, entries.get(i).metrics().size());
      }
      try (Child c = new Child("append", run.toString(), "1")) {
        c.expect("appending");
        assertEquals(0, c.awaitExit(), stderrTail());
      }
      assertAllHistoryLinesParse(run);
      assertEquals(entries.size() + 1, RunStore.open(run).history().size());
    }
    System.out.println("history appends torn by SIGKILL: " + torn + " of 2");
  }

  /**
   * The step a restart resumes from: the latest checkpoint whose step has its history line. A
   * kill between a checkpoint's rename and its history append leaves one newer checkpoint,
   * which the restart rolls back and trains again.
   */
  static int latestCommittedCheckpoint(Path run) {
    RunStore store = RunStore.open(run);
    java.util.Set<Integer> logged = new java.util.HashSet<>();
    store.history("train").forEach(h -> logged.add(h.step()));
    List<Integer> steps = store.checkpointSteps();
    int committed = 0;
    for (int s : steps) {
      if (logged.contains(s)) {
        committed = s;
      }
    }
    int uncommitted = (int) steps.stream().filter(s -> !logged.contains(s)).count();
    assertTrue(uncommitted <= 1, "at most the step being logged lacks its history line: " + steps + " vs " + logged);
    return committed;
  }

  /** Every complete checkpoint holds all its files, whole; no visible folder is incomplete; logs parse. */
  static void assertStoreIntact(Path run) throws IOException {
    RunStore store = RunStore.open(run);
    List<Integer> steps = store.checkpointSteps();
    if (Files.isDirectory(store.checkpointsDir())) {
      try (Stream<Path> s = Files.list(store.checkpointsDir())) {
        for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
          assertTrue(steps.contains(Integer.parseInt(p.getFileName().toString())), "visible but not complete: " + p);
        }
      }
    }
    for (int step : steps) {
      Path ckpt = store.checkpointDir(step);
      for (String f : CHECKPOINT_FILES) {
        assertTrue(Files.isRegularFile(ckpt.resolve(f)), ckpt.resolve(f) + " missing");
      }
      JSON.readTree(ckpt.resolve("adapter_config.json").toFile());
      JsonNode state = JSON.readTree(ckpt.resolve("trainer_state.json").toFile());
      assertFalse(state.isEmpty(), "empty trainer_state.json in " + ckpt);
      assertSafetensorsWhole(ckpt.resolve("adapter_model.safetensors"));
      assertSafetensorsWhole(ckpt.resolve("optimizer.safetensors"));
    }
    // every logged training step has its checkpoint: the checkpoint is written before the log
    for (HistoryEntry h : store.history("train")) {
      assertTrue(steps.contains(h.step()), "history has step " + h.step() + " without its checkpoint " + steps);
      store.trajectories("train", h.step()); // parses every line or throws
    }
  }

  /** The header parses and the file is exactly header + the data its offsets describe. */
  static void assertSafetensorsWhole(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    assertTrue(bytes.length >= 8, file + " truncated");
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertTrue(n > 0 && 8 + n <= bytes.length, file + ": bad header length " + n);
    JsonNode header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
    long end = 0;
    for (var e : header.properties()) {
      if (!e.getKey().equals("__metadata__")) {
        end = Math.max(end, e.getValue().get("data_offsets").get(1).asLong());
      }
    }
    assertEquals(8 + n + end, bytes.length, file + " is not whole");
  }

  static void assertAllHistoryLinesParse(Path run) throws IOException {
    String raw = Files.readString(RunStore.open(run).historyFile());
    assertTrue(raw.endsWith("\n"), "history.jsonl ends with a complete line");
    for (String line : raw.split("\n")) {
      JSON.readTree(line);
    }
  }
}
