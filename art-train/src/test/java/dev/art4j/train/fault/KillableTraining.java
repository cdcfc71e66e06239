package dev.art4j.train.fault;

import dev.art4j.core.chat.Message;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The child JVM that {@link ProcessKillFaultTest} SIGKILLs. Modes (stdout lines are the protocol):
 * <ul>
 *   <li>{@code train <model> <runDir> <untilStep>}: GRPO steps on synthetic groups with a run
 *       store, resuming from its latest checkpoint; prints {@code resumed <step>} then
 *       {@code done <step>} after each step.
 *   <li>{@code slow-checkpoint <model> <runDir>}: resumes, then writes the next checkpoint through
 *       {@link RunStore#writeCheckpoint} copying the latest one file by file, printing
 *       {@code writing} after the first file and then stalling (a slow disk) until killed.
 *   <li>{@code append <runDir> <count>}: appends {@code count} large history lines (0 = forever),
 *       printing {@code appending} after the first.
 * </ul>
 */
public final class KillableTraining {

  private KillableTraining() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "train" -> train(Path.of(args[1]), RunStore.open(Path.of(args[2])), Integer.parseInt(args[3]));
      case "slow-checkpoint" -> slowCheckpoint(Path.of(args[1]), RunStore.open(Path.of(args[2])));
      case "append" -> append(RunStore.open(Path.of(args[1])), Integer.parseInt(args[2]));
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static GrpoTrainer trainer(Policy policy, RunStore store) {
    return GrpoTrainer.builder(policy).config(TrainConfig.builder().learningRate(1e-2).seed(5).build())
        .runStore(store).lora(new LoraConfig(4, 8, 0), 5).build();
  }

  static void train(Path model, RunStore store, int untilStep) throws Exception {
    try (Policy policy = Policy.load(model); GrpoTrainer trainer = trainer(policy, store)) {
      System.out.println("resumed " + trainer.step());
      Random random = new Random(trainer.step());
      while (trainer.step() < untilStep) {
        trainer.train(groups(random));
        System.out.println("done " + trainer.step());
      }
    }
  }

  static void slowCheckpoint(Path model, RunStore store) throws Exception {
    try (Policy policy = Policy.load(model); GrpoTrainer trainer = trainer(policy, store)) {
      System.out.println("resumed " + trainer.step());
      Path latest = store.latestCheckpoint().orElseThrow();
      List<Path> files;
      try (Stream<Path> s = Files.list(latest)) {
        files = s.sorted().toList();
      }
      store.writeCheckpoint(trainer.step() + 1, dir -> {
        Files.copy(files.get(0), dir.resolve(files.get(0).getFileName()));
        System.out.println("writing");
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        for (Path f : files.subList(1, files.size())) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      });
    }
  }

  static void append(RunStore store, int count) {
    int start = store.history().size();
    for (int i = 0; count == 0 || i < count; i++) {
      Map<String, Double> metrics = new LinkedHashMap<>();
      for (int k = 0; k < 1_000; k++) {
        metrics.put("metric_" + k, (double) (start + i) * k);
      }
      store.appendHistory(new HistoryEntry(start + i + 1, "train", metrics, null, Instant.now().toString()));
      if (i == 0) {
        System.out.println("appending");
      }
    }
  }

  /** Two groups of four one-turn trajectories over the tiny vocabulary, with spread rewards. */
  static List<TrajectoryGroup> groups(Random random) {
    List<TrajectoryGroup> out = new ArrayList<>();
    for (int g = 0; g < 2; g++) {
      List<Trajectory> ts = new ArrayList<>();
      int[] prompt = ids(random, 12);
      for (int k = 0; k < 4; k++) {
        int[] sampled = ids(random, 10);
        float[] lp = new float[sampled.length];
        java.util.Arrays.fill(lp, -5.5f);
        ts.add(Trajectory.ofMessages(List.of(Message.user("q"), Message.assistant("a")))
            .withTurns(List.of(new Turn(prompt, sampled, lp))).withReward(k));
      }
      out.add(new TrajectoryGroup(ts, List.of()));
    }
    return out;
  }

  static int[] ids(Random random, int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = 3 + random.nextInt(250);
    }
    return a;
  }
}
