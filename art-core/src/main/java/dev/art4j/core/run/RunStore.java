package dev.art4j.core.run;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk record of one trained model, in the layout of ART's {@code .art/} folder:
 *
 * <pre>
 * .art/&lt;project&gt;/models/&lt;name&gt;/
 *   history.jsonl                        one JSON object per logged step: step, split, metrics
 *   trajectories/&lt;split&gt;/&lt;step&gt;.jsonl   every trajectory of that step (tokens excluded), one per line
 *   checkpoints/&lt;step&gt;/                  a complete checkpoint (adapter, optimizer, trainer state)
 * </pre>
 *
 * <p>Nothing is ever left half-written: {@code history.jsonl} is only appended (one fsynced write
 * per line; a torn last line from a kill mid-append is ignored on read and cut off before the next
 * append), every other file is replaced atomically (temporary file, fsync, rename), and a
 * checkpoint is written into a hidden temporary folder that is renamed to {@code <step>} only when
 * complete. Any folder under {@code checkpoints/} named by a number is therefore a complete one.
 *
 * <p>One process writes a run at a time; readers may run alongside. Instances are thread-safe.
 */
public final class RunStore {

  private static final Logger log = LoggerFactory.getLogger(RunStore.class);
  private static final Pattern STEP_NAME = Pattern.compile("\\d{1,9}");
  private static final String TMP_PREFIX = ".tmp-";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private final Path dir;

  private RunStore(Path dir) {
    this.dir = dir;
  }

  /** The model {@code name} of {@code project} under {@code root} (usually {@code .art}); folders are created. */
  public static RunStore open(Path root, String project, String name) {
    requireName(project, "project");
    requireName(name, "model name");
    return open(root.resolve(project).resolve("models").resolve(name));
  }

  /**
   * A run store rooted at an existing or new model folder. An existing {@code history.jsonl} is
   * read through once, so that a corrupt line is reported now (file and line number), not by the
   * report written after hours of training.
   */
  public static RunStore open(Path modelDir) {
    try {
      Files.createDirectories(modelDir.resolve("checkpoints"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run folder " + modelDir + ": " + reason(e), e);
    }
    RunStore store = new RunStore(modelDir);
    store.history();
    return store;
  }

  /** Why an I/O operation failed, as the OS says it ("No space left on device"), for messages. */
  static String reason(IOException e) {
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or folder";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** The model folder ({@code .art/<project>/models/<name>}). */
  public Path dir() {
    return dir;
  }

  public Path historyFile() {
    return dir.resolve("history.jsonl");
  }

  public Path trajectoriesFile(String split, int step) {
    requireName(split, "split");
    return dir.resolve("trajectories").resolve(split).resolve(step + ".jsonl");
  }

  public Path checkpointsDir() {
    return dir.resolve("checkpoints");
  }

  public Path checkpointDir(int step) {
    return checkpointsDir().resolve(Integer.toString(step));
  }

  // ---------------------------------------------------------------- logging

  /**
   * Logs one step of one split: writes every trajectory of {@code groups} (without tokens) to
   * {@code trajectories/<split>/<step>.jsonl}, replacing that file atomically, and appends a line
   * with {@code metrics} to {@code history.jsonl}. The metrics are the caller's: a trainer passes
   * its loss and reward statistics, an evaluation the rewards of its groups.
   */
  public void log(List<TrajectoryGroup> groups, String split, Map<String, Double> metrics, int step) {
    log(groups, split, metrics, step, null);
  }

  /** {@link #log(List, String, Map, int)} with a note on the history line (e.g. why a step was skipped). */
  public synchronized void log(List<TrajectoryGroup> groups, String split, Map<String, Double> metrics, int step,
      String note) {
    writeTrajectories(groups, split, step);
    appendHistory(new HistoryEntry(step, split, metrics, note, Instant.now().toString()));
  }

  /** Appends one line to {@code history.jsonl} (e.g. a skipped training step with its reason). */
  public synchronized void appendHistory(HistoryEntry entry) {
    Objects.requireNonNull(entry, "entry");
    Path file = historyFile();
    try {
      repairHistoryTail(file);
      byte[] line = (JSON.writeValueAsString(entry) + "\n").getBytes(StandardCharsets.UTF_8);
      AtomicFiles.append(file, line);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file + ": " + reason(e), e);
    }
  }

  /** Every complete line of {@code history.jsonl}, in file order; an empty list if there is none. */
  public synchronized List<HistoryEntry> history() {
    Path file = historyFile();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + reason(e), e);
    }
    List<HistoryEntry> out = new ArrayList<>();
    int start = 0;
    int lineNo = 0;
    while (start < text.length()) {
      int end = text.indexOf('\n', start);
      lineNo++;
      if (end < 0) {
        // a kill mid-append leaves a line without its newline: not a logged step
        log.warn("{}: ignoring incomplete last line {}", file, lineNo);
        break;
      }
      String line = text.substring(start, end).strip();
      start = end + 1;
      if (line.isEmpty()) {
        continue;
      }
      try {
        out.add(JSON.readValue(line, HistoryEntry.class));
      } catch (IOException e) {
        String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        throw new UncheckedIOException(file + " line " + lineNo + " is not a history entry ("
            + why.lines().findFirst().orElse("") + "); fix or delete that line", e);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The history lines of one split. */
  public List<HistoryEntry> history(String split) {
    return history().stream().filter(h -> h.split().equals(split)).toList();
  }

  /** The groups logged for {@code split} at {@code step}, without tokens; empty if none were. */
  public List<TrajectoryGroup> trajectories(String split, int step) {
    Path file = trajectoriesFile(split, step);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + reason(e), e);
    }
    TreeMap<Integer, List<Trajectory>> byGroup = new TreeMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        ObjectNode node = (ObjectNode) JSON.readTree(line);
        int group = node.path("group").asInt(0);
        node.remove("group");
        byGroup.computeIfAbsent(group, g -> new ArrayList<>()).add(JSON.treeToValue(node, Trajectory.class));
      } catch (IOException | ClassCastException e) {
        throw new UncheckedIOException(new IOException(file + " line " + (i + 1) + " is not a trajectory: " + e.getMessage(), e));
      }
    }
    return byGroup.values().stream().map(TrajectoryGroup::of).toList();
  }

  private void writeTrajectories(List<TrajectoryGroup> groups, String split, int step) {
    Path file = trajectoriesFile(split, step);
    StringBuilder sb = new StringBuilder();
    try {
      for (int g = 0; g < groups.size(); g++) {
        for (Trajectory t : groups.get(g).trajectories()) {
          ObjectNode node = JSON.createObjectNode();
          node.put("group", g);
          node.setAll((ObjectNode) JSON.valueToTree(t.withoutTokens()));
          node.remove("turns");
          sb.append(JSON.writeValueAsString(node)).append('\n');
        }
      }
      AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + reason(e), e);
    }
  }

  /** Cuts a torn last line (no trailing newline) off {@code history.jsonl} before the next append. */
  private static void repairHistoryTail(Path file) throws IOException {
    if (!Files.exists(file)) {
      return;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      if (size == 0) {
        return;
      }
      long pos = size;
      java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
      while (pos > 0) {
        one.clear();
        ch.read(one, pos - 1);
        if (one.get(0) == '\n') {
          break;
        }
        pos--;
      }
      if (pos != size) {
        log.warn("{}: cutting {} bytes of an incomplete last line", file, size - pos);
        ch.truncate(pos);
        ch.force(true);
      }
    }
  }

  // ------------------------------------------------------------ checkpoints

  /** Writes the files of one checkpoint into the folder it is given. */
  @FunctionalInterface
  public interface CheckpointWriter {
    void write(Path dir) throws IOException;
  }

  /**
   * Writes checkpoint {@code step}: {@code writer} fills a hidden temporary folder, which is then
   * fsynced and renamed to {@code checkpoints/<step>/}. A kill before the rename leaves only the
   * temporary folder, which the next call removes; an existing checkpoint of the same step is
   * replaced.
   *
   * @return the finished checkpoint folder
   */
  public synchronized Path writeCheckpoint(int step, CheckpointWriter writer) {
    if (step < 0) {
      throw new IllegalArgumentException("checkpoint step must be >= 0, got " + step);
    }
    Path target = checkpointDir(step);
    Path tmp = checkpointsDir().resolve(TMP_PREFIX + step);
    try {
      removeTemporaryCheckpoints();
      Files.createDirectories(tmp);
      writer.write(tmp);
      AtomicFiles.fsyncTree(tmp);
      if (Files.exists(target)) {
        // a directory cannot be renamed over a non-empty one: move the old aside first
        Path old = checkpointsDir().resolve(TMP_PREFIX + step + ".old");
        AtomicFiles.move(target, old);
        AtomicFiles.move(tmp, target);
        AtomicFiles.deleteTree(old);
      } else {
        AtomicFiles.move(tmp, target);
      }
      AtomicFiles.fsyncDirectory(checkpointsDir());
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + target + ": " + reason(e), e);
    }
  }

  /**
   * Rolls the run back to its last committed step. A checkpoint is written before the history
   * lines of its step, so a kill or a failed write in between leaves a checkpoint whose step has
   * no history; resuming from it would skip that step's metrics for good. Every checkpoint
   * newer than the latest one whose step has a {@code split} line that {@code committed}
   * accepts is deleted, so that training resumes from the committed one and does the step again
   * (the step's earlier lines stay; readers take a step's last line).
   *
   * @return the steps deleted, ascending
   */
  public synchronized List<Integer> rollBackToCommitted(String split, java.util.function.Predicate<HistoryEntry> committed) {
    java.util.Set<Integer> done = new java.util.HashSet<>();
    for (HistoryEntry h : history(split)) {
      if (committed.test(h)) {
        done.add(h.step());
      }
    }
    List<Integer> steps = checkpointSteps();
    List<Integer> deleted = new ArrayList<>();
    for (int i = steps.size() - 1; i >= 0 && !done.contains(steps.get(i)); i--) {
      int s = steps.get(i);
      try {
        Path doomed = checkpointsDir().resolve(TMP_PREFIX + "delete-" + s);
        AtomicFiles.move(checkpointDir(s), doomed);
        AtomicFiles.deleteTree(doomed);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete checkpoint " + checkpointDir(s) + ": " + reason(e), e);
      }
      log.warn("checkpoint {} has no {} history line: rolled back, the step will be trained again", s, split);
      deleted.add(0, s);
    }
    return List.copyOf(deleted);
  }

  /** The steps of all complete checkpoints, ascending. */
  public List<Integer> checkpointSteps() {
    List<Integer> steps = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpointsDir())) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (STEP_NAME.matcher(n).matches() && Files.isDirectory(p)) {
          steps.add(Integer.parseInt(n));
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + checkpointsDir() + ": " + reason(e), e);
    }
    Collections.sort(steps);
    return List.copyOf(steps);
  }

  /** The step of the latest complete checkpoint, if any. */
  public OptionalInt latestCheckpointStep() {
    List<Integer> steps = checkpointSteps();
    return steps.isEmpty() ? OptionalInt.empty() : OptionalInt.of(steps.get(steps.size() - 1));
  }

  /** The folder of the latest complete checkpoint, if any. */
  public Optional<Path> latestCheckpoint() {
    OptionalInt s = latestCheckpointStep();
    return s.isPresent() ? Optional.of(checkpointDir(s.getAsInt())) : Optional.empty();
  }

  /**
   * Deletes every checkpoint except the latest and the best one by {@code metric} of
   * {@code split} in the history (the value logged at the checkpoint's step; the last line wins
   * when a step was logged twice). Checkpoints whose step has no value for the metric are
   * never "best". With no value at all, only the latest is kept.
   *
   * @param higherIsBetter true for rewards and accuracies, false for losses
   * @return the steps deleted
   */
  public synchronized List<Integer> deleteCheckpoints(String split, String metric, boolean higherIsBetter) {
    List<Integer> steps = checkpointSteps();
    if (steps.size() <= 1) {
      return List.of();
    }
    Map<Integer, Double> value = new TreeMap<>();
    for (HistoryEntry h : history(split)) {
      double v = h.metric(metric);
      if (!Double.isNaN(v)) {
        value.put(h.step(), v);
      }
    }
    Integer best = null;
    for (int s : steps) {
      Double v = value.get(s);
      if (v != null && (best == null
          || (higherIsBetter ? v > value.get(best) : v < value.get(best)))) {
        best = s;
      }
    }
    int latest = steps.get(steps.size() - 1);
    List<Integer> deleted = new ArrayList<>();
    for (int s : steps) {
      if (s != latest && (best == null || s != best)) {
        try {
          // rename first so a kill mid-delete never leaves a partial folder with a step name
          Path doomed = checkpointsDir().resolve(TMP_PREFIX + "delete-" + s);
          AtomicFiles.move(checkpointDir(s), doomed);
          AtomicFiles.deleteTree(doomed);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete checkpoint " + checkpointDir(s) + ": " + reason(e), e);
        }
        deleted.add(s);
      }
    }
    return List.copyOf(deleted);
  }

  private void removeTemporaryCheckpoints() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpointsDir(), TMP_PREFIX + "*")) {
      for (Path p : ds) {
        log.info("removing unfinished checkpoint folder {}", p);
        AtomicFiles.deleteTree(p);
      }
    }
  }

  private static void requireName(String s, String what) {
    if (s == null || s.isBlank() || s.contains("/") || s.contains("\\") || s.equals(".") || s.equals("..")) {
      throw new IllegalArgumentException("invalid " + what + ": '" + s + "' (must be a plain folder name)");
    }
  }
}
