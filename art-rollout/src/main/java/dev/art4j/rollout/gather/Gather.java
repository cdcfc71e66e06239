package dev.art4j.rollout.gather;

import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every scenario {@code groupSize} times, all rollouts concurrently, and returns one
 * {@link TrajectoryGroup} per scenario that the {@code afterEach} hook kept, in scenario order,
 * its trajectories in member order (not in the order they finished). Concurrent rollouts are what lets the inference engine batch their
 * requests (a group's identical first prompts share one prefill). A {@link SeededRollout} gets a
 * seed per rollout that depends only on the gather's {@link Builder#seed seed} and the rollout's
 * place, so a seeded gather on a seeded sampler is reproducible.
 *
 * <pre>{@code
 * List<TrajectoryGroup> groups = Gather.builder(scenarios, s -> agent.run(s.task(), tools))
 *     .groupSize(8).maxExceptions(2).afterEach(ruler::score).build().run();
 * }</pre>
 *
 * <p>A rollout that throws is recorded in its group's {@code exceptions} and the run goes on
 * while the total number of failures is at most {@code maxExceptions}; one more and the run
 * stops (rollouts in flight are interrupted) with a {@link GatherException}. The
 * {@code afterEach} hook sees each group as soon as its last rollout ends (where a judge such
 * as RULER plugs in) and returns the group to keep, or empty to drop it (as ART's gather drops a
 * group that failed: a group the judge could not score must not be trained on with rewards on
 * another scale than the judged groups'). A progress bar on stderr shows rollouts
 * done, the mean reward so far and sampled tokens per second.
 *
 * @param <S> the scenario type
 */
public final class Gather<S> {

  private static final Logger LOG = LoggerFactory.getLogger(Gather.class);

  private final List<S> scenarios;
  private final SeededRollout<S> rollout;
  private final long seed;
  private final int groupSize;
  private final int maxExceptions;
  private final int concurrency;
  private final Function<TrajectoryGroup, Optional<TrajectoryGroup>> afterEach;
  private final PrintStream progress;
  private final String taskName;

  private Gather(Builder<S> b) {
    this.scenarios = List.copyOf(b.scenarios);
    this.rollout = b.rollout;
    this.seed = b.seed;
    this.groupSize = b.groupSize;
    this.maxExceptions = b.maxExceptions >= 0 ? b.maxExceptions
        : (int) Math.floor(b.maxExceptionFraction * scenarios.size() * groupSize);
    this.concurrency = b.concurrency > 0 ? b.concurrency : Math.max(1, Math.min(scenarios.size() * groupSize, 64));
    this.afterEach = b.afterEach;
    this.progress = b.progress;
    this.taskName = b.taskName;
  }

  /** Starts a gather of {@code scenarios}, each run by {@code rollout}. */
  public static <S> Builder<S> builder(List<S> scenarios, Rollout<S> rollout) {
    Objects.requireNonNull(rollout, "rollout");
    return new Builder<>(scenarios, (scenario, seed) -> rollout.run(scenario));
  }

  /** Starts a gather of {@code scenarios}, each run by {@code rollout} with its own seed. */
  public static <S> Builder<S> builder(List<S> scenarios, SeededRollout<S> rollout) {
    return new Builder<>(scenarios, rollout);
  }

  /**
   * Runs all rollouts and returns the groups in scenario order, less those the hook dropped.
   *
   * @throws GatherException when failures exceed the budget, or an {@code afterEach} hook throws
   */
  public List<TrajectoryGroup> run() {
    int total = scenarios.size() * groupSize;
    if (total == 0) {
      return List.of();
    }
    Tracker tracker = new Tracker(scenarios.size(), groupSize);
    LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(concurrency, total), threads());
    // group-major order: the rollouts of a scenario start together and share prefill
    SplittableRandom seeds = new SplittableRandom(seed);
    for (int g = 0; g < scenarios.size(); g++) {
      for (int k = 0; k < groupSize; k++) {
        int group = g;
        int member = k;
        long rolloutSeed = seeds.nextLong();
        pool.execute(() -> events.add(runOne(group, member, rolloutSeed)));
      }
    }
    long start = System.nanoTime();
    List<Optional<TrajectoryGroup>> out = new ArrayList<>(scenarios.size());
    for (int g = 0; g < scenarios.size(); g++) {
      out.add(null);
    }
    try (ProgressBar bar = progressBar(total)) {
      int done = 0;
      while (done < total) {
        Event e;
        try {
          e = events.take();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new GatherException("gather interrupted after " + done + " of " + total + " rollouts",
              tracker.failures(), tracker.allExceptions());
        }
        done++;
        boolean groupDone = tracker.record(e);
        if (tracker.failures() > maxExceptions) {
          throw new GatherException(String.format(Locale.ROOT,
              "%d of %d rollouts failed, over the budget of maxExceptions=%d; the run stopped. First failure: %s",
              tracker.failures(), total, maxExceptions, describe(tracker.allExceptions().get(0))),
              tracker.failures(), tracker.allExceptions());
        }
        if (groupDone) {
          TrajectoryGroup gathered = tracker.group(e.group);
          Optional<TrajectoryGroup> group = Optional.of(gathered);
          if (afterEach != null) {
            try {
              group = Objects.requireNonNull(afterEach.apply(gathered), "afterEach returned null");
            } catch (RuntimeException ex) {
              List<Throwable> all = new ArrayList<>(List.of(ex));
              all.addAll(tracker.allExceptions());
              throw new GatherException("afterEach failed on group " + e.group + ": " + describe(ex),
                  tracker.failures(), all);
            }
            tracker.rescore(gathered, group.orElseGet(() -> TrajectoryGroup.of(List.of())));
            if (group.isEmpty()) {
              LOG.info("group {} dropped by afterEach", e.group);
            }
          }
          out.set(e.group, group);
        }
        if (bar != null) {
          bar.stepTo(done);
          bar.setExtraMessage(tracker.summary((System.nanoTime() - start) / 1e9));
        }
      }
    } finally {
      pool.shutdownNow();
      awaitQuietly(pool);
    }
    LOG.debug("gathered {} groups x {} rollouts: {}", scenarios.size(), groupSize,
        tracker.summary((System.nanoTime() - start) / 1e9));
    return out.stream().flatMap(Optional::stream).toList();
  }

  private Event runOne(int group, int member, long rolloutSeed) {
    try {
      Trajectory t = rollout.run(scenarios.get(group), rolloutSeed);
      if (t == null) {
        return new Event(group, member, null, new NullPointerException("rollout returned null for scenario " + group));
      }
      return new Event(group, member, t, null);
    } catch (Throwable ex) {
      if (ex instanceof Error && !(ex instanceof AssertionError)) {
        LOG.error("rollout of scenario {} hit an Error", group, ex);
      }
      return new Event(group, member, null, ex);
    }
  }

  private ProgressBar progressBar(int total) {
    if (progress == null) {
      return null;
    }
    return new ProgressBarBuilder()
        .setTaskName(taskName)
        .setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(progress, 120))
        .setUpdateIntervalMillis(250)
        .hideEta()
        .build();
  }

  private static ThreadFactory threads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "gather-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    };
  }

  private static void awaitQuietly(ExecutorService pool) {
    try {
      pool.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  /** A finished rollout: a trajectory or what it threw. */
  private record Event(int group, int member, Trajectory trajectory, Throwable error) {}

  /** Per-group results (by member) and running totals; touched by the collecting thread only. */
  private static final class Tracker {
    private final Event[][] results; // (group, member)
    private final int[] finished;
    private final List<Throwable> all = new ArrayList<>();
    private double rewardSum;
    private int rewardCount;
    private long sampledTokens;

    Tracker(int groups, int groupSize) {
      results = new Event[groups][groupSize];
      finished = new int[groups];
    }

    /** Records a result; true when it was the group's last. */
    boolean record(Event e) {
      results[e.group][e.member] = e;
      if (e.error != null) {
        all.add(e.error);
      } else {
        rewardSum += e.trajectory.reward();
        rewardCount++;
        for (Turn t : e.trajectory.turns()) {
          sampledTokens += t.sampledIds().length;
        }
      }
      return ++finished[e.group] == results[e.group].length;
    }

    /** The group's trajectories and exceptions, each in member order. */
    TrajectoryGroup group(int g) {
      List<Trajectory> trajectories = new ArrayList<>();
      List<Throwable> exceptions = new ArrayList<>();
      for (Event e : results[g]) {
        if (e == null) {
          continue;
        }
        if (e.error != null) {
          exceptions.add(e.error);
        } else {
          trajectories.add(e.trajectory);
        }
      }
      return new TrajectoryGroup(trajectories, exceptions);
    }

    /** Replaces a group's rewards in the running mean by the ones its hook returned. */
    void rescore(TrajectoryGroup gathered, TrajectoryGroup judged) {
      for (Trajectory t : gathered.trajectories()) {
        rewardSum -= t.reward();
        rewardCount--;
      }
      for (Trajectory t : judged.trajectories()) {
        rewardSum += t.reward();
        rewardCount++;
      }
    }

    int failures() {
      return all.size();
    }

    List<Throwable> allExceptions() {
      return all;
    }

    String summary(double seconds) {
      String reward = rewardCount == 0 ? "-" : String.format(Locale.ROOT, "%.3f", rewardSum / rewardCount);
      return String.format(Locale.ROOT, "reward %s | %.1f tok/s | errors %d", reward,
          seconds > 0 ? sampledTokens / seconds : 0.0, all.size());
    }
  }

  /** Options of a {@link Gather}. */
  public static final class Builder<S> {
    private final List<S> scenarios;
    private final SeededRollout<S> rollout;
    private long seed = System.nanoTime();
    private int groupSize = 1;
    private int maxExceptions = 0;
    private double maxExceptionFraction = -1;
    private int concurrency = 0;
    private Function<TrajectoryGroup, Optional<TrajectoryGroup>> afterEach;
    private PrintStream progress = System.err;
    private String taskName = "gather";

    private Builder(List<S> scenarios, SeededRollout<S> rollout) {
      this.scenarios = Objects.requireNonNull(scenarios, "scenarios");
      this.rollout = Objects.requireNonNull(rollout, "rollout");
    }

    /** Seeds the per-rollout seeds of a {@link SeededRollout}; default: the clock. */
    public Builder<S> seed(long v) {
      seed = v;
      return this;
    }

    /** Rollouts per scenario (K); default 1. */
    public Builder<S> groupSize(int k) {
      if (k <= 0) {
        throw new IllegalArgumentException("groupSize must be > 0, got " + k);
      }
      groupSize = k;
      return this;
    }

    /** How many failed rollouts the run tolerates in all; default 0 (the first failure stops it). */
    public Builder<S> maxExceptions(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxExceptions must be >= 0, got " + n);
      }
      maxExceptions = n;
      maxExceptionFraction = -1;
      return this;
    }

    /** The budget as a fraction of all rollouts, rounded down (ART's float {@code max_exceptions}). */
    public Builder<S> maxExceptionFraction(double f) {
      if (!(f >= 0 && f <= 1)) {
        throw new IllegalArgumentException("maxExceptionFraction must be in [0, 1], got " + f);
      }
      maxExceptionFraction = f;
      maxExceptions = -1;
      return this;
    }

    /** Rollouts running at once; default all of them, at most 64. */
    public Builder<S> concurrency(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("concurrency must be > 0, got " + n);
      }
      concurrency = n;
      return this;
    }

    /**
     * Called with each group when its last rollout ends; returns the group to keep (e.g. judged:
     * {@code afterEach(ruler::score)}), or empty to leave the group out of the result. A hook
     * that throws stops the run with a {@link GatherException}.
     */
    public Builder<S> afterEach(Function<TrajectoryGroup, Optional<TrajectoryGroup>> hook) {
      afterEach = hook;
      return this;
    }

    /** Where the progress bar goes (default stderr); null for none. */
    public Builder<S> progress(PrintStream out) {
      progress = out;
      return this;
    }

    /** The progress bar's label; default "gather". */
    public Builder<S> taskName(String name) {
      taskName = Objects.requireNonNull(name);
      return this;
    }

    public Gather<S> build() {
      return new Gather<>(this);
    }
  }
}
