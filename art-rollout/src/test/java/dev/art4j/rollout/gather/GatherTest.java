package dev.art4j.rollout.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.core.trajectory.Turn;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class GatherTest {

  /** A rollout of scenario n: reward n, 4 sampled tokens; throws for scenarios in {@code failing}. */
  static Trajectory rollout(int n, List<Integer> failing) {
    if (failing.contains(n)) {
      throw new IllegalStateException("tool server down for scenario " + n);
    }
    return Trajectory.ofMessages(List.of(Message.user("task " + n), Message.assistant("answer " + n)))
        .withTurns(List.of(new Turn(new int[] {1, 2}, new int[] {3, 4, 5, 6}, new float[] {-1, -1, -1, -1})))
        .withReward(n);
  }

  @Test
  void failedRolloutsAreRecordedAndTheOthersComplete() {
    List<Integer> scenarios = IntStream.range(0, 6).boxed().toList();
    List<Integer> failing = List.of(2);
    ByteArrayOutputStream bar = new ByteArrayOutputStream();
    List<Integer> hooked = Collections.synchronizedList(new ArrayList<>());
    List<TrajectoryGroup> groups = Gather.builder(scenarios, (Integer s) -> rollout(s, failing))
        .groupSize(3)
        .maxExceptions(3)
        .progress(new PrintStream(bar, true, StandardCharsets.UTF_8))
        .afterEach(g -> {
          hooked.add(g.size() + g.exceptions().size());
          return Optional.of(g.map(t -> t.withReward(t.reward() * 10).withMetric("judged", 1)));
        })
        .build()
        .run();

    assertEquals(6, groups.size());
    for (int g = 0; g < 6; g++) {
      TrajectoryGroup group = groups.get(g);
      if (g == 2) {
        assertEquals(0, group.size());
        assertEquals(3, group.exceptions().size());
        assertTrue(group.errors().get(0).contains("tool server down for scenario 2"), group.errors().toString());
      } else {
        assertEquals(3, group.size(), "group " + g);
        for (Trajectory t : group.trajectories()) {
          assertEquals("task " + g, t.messages().get(0).content(), "groups stay in scenario order");
          assertEquals(g * 10.0, t.reward(), "afterEach result is what is returned");
          assertEquals(1.0, t.metrics().get("judged"));
        }
      }
    }
    assertEquals(List.of(3, 3, 3, 3, 3, 3), hooked, "afterEach saw every group once, complete");
    String shown = bar.toString(StandardCharsets.UTF_8);
    assertTrue(shown.contains("18/18"), shown);
    // 15 good rollouts of 5 scenarios, rewards 10x(0,1,3,4,5)
    assertTrue(shown.contains("reward 26.000"), shown);
    assertTrue(shown.contains("errors 3"), shown);
  }

  @Test
  void theBudgetStopsTheRunWhenExceeded() {
    // scenarios 0 and 1 fail at once (4 failures, budget 2); the others would run until interrupted
    List<Integer> scenarios = IntStream.range(0, 6).boxed().toList();
    AtomicInteger interrupted = new AtomicInteger();
    long start = System.nanoTime();
    GatherException e = assertThrows(GatherException.class,
        () -> Gather.builder(scenarios, (Integer s) -> {
              if (s < 2) {
                throw new IllegalStateException("tool server down for scenario " + s);
              }
              try {
                Thread.sleep(60_000);
              } catch (InterruptedException ie) {
                interrupted.incrementAndGet();
                throw ie;
              }
              return rollout(s, List.of());
            })
            .groupSize(2)
            .maxExceptions(2)
            .progress(null)
            .build()
            .run());
    assertEquals(3, e.failures(), "stops at the first failure past the budget");
    assertTrue(e.getMessage().contains("3 of 12 rollouts failed, over the budget of maxExceptions=2"), e.getMessage());
    assertTrue(e.getCause().getMessage().contains("tool server down"), "the first failure is the cause");
    assertEquals(2, e.getSuppressed().length);
    assertTrue((System.nanoTime() - start) / 1e9 < 30, "the run did not wait for the rollouts in flight");
    assertEquals(8, interrupted.get(), "the rollouts in flight were interrupted");
  }

  @Test
  void defaultBudgetIsZeroAndFractionBudgetRoundsDown() {
    List<Integer> scenarios = IntStream.range(0, 4).boxed().toList();
    assertThrows(GatherException.class,
        () -> Gather.builder(scenarios, (Integer s) -> rollout(s, List.of(3))).progress(null).build().run());
    // 4 scenarios x 2 = 8 rollouts, 25% -> 2 failures allowed, scenario 3 fails twice
    List<TrajectoryGroup> groups = Gather.builder(scenarios, (Integer s) -> rollout(s, List.of(3)))
        .groupSize(2).maxExceptionFraction(0.25).progress(null).build().run();
    assertEquals(2, groups.get(3).exceptions().size());
    assertEquals(2, groups.get(0).size());
  }

  @Test
  void rolloutsOfAGroupRunConcurrently() {
    // each rollout waits until all 4 of its group have started: only possible if they run together
    CyclicBarrier barrier = new CyclicBarrier(4);
    List<TrajectoryGroup> groups = Gather.builder(List.of(7), (Integer s) -> {
          barrier.await(20, TimeUnit.SECONDS);
          return rollout(s, List.of());
        })
        .groupSize(4).progress(null).build().run();
    assertEquals(4, groups.get(0).size());
  }

  /** A hook that answers empty (a judge that failed on the group) drops the group from the result. */
  @Test
  void groupsTheHookDropsAreLeftOutInScenarioOrder() {
    List<Integer> scenarios = IntStream.range(0, 5).boxed().toList();
    List<TrajectoryGroup> groups = Gather.builder(scenarios, (Integer s) -> rollout(s, List.of()))
        .groupSize(2)
        .afterEach(g -> g.trajectories().get(0).reward() % 2 == 1 ? Optional.empty() : Optional.of(g))
        .progress(null).build().run();
    assertEquals(List.of(0.0, 2.0, 4.0), groups.stream().map(g -> g.trajectories().get(0).reward()).toList());
  }

  @Test
  void aFailingHookStopsTheRunClearly() {
    GatherException e = assertThrows(GatherException.class,
        () -> Gather.builder(List.of(0, 1), (Integer s) -> rollout(s, List.of()))
            .afterEach(g -> {
              throw new IllegalStateException("judge unreachable");
            })
            .progress(null).build().run());
    assertTrue(e.getMessage().startsWith("afterEach failed on group"), e.getMessage());
    assertTrue(e.getMessage().contains("judge unreachable"), e.getMessage());
  }

  /** The seeds a gather's rollouts got, per group in member order (the seed is the answer). */
  static List<List<String>> seedsSeen(long seed, int concurrency) {
    List<TrajectoryGroup> groups = Gather.builder(List.of(0, 1, 2), (Integer s, long rolloutSeed) -> {
          // finish in a scrambled order: later members tend to finish first
          Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(15));
          return Trajectory.ofMessages(List.of(Message.user("task " + s), Message.assistant(Long.toString(rolloutSeed))));
        })
        .seed(seed).groupSize(5).concurrency(concurrency).progress(null).build().run();
    return groups.stream()
        .map(g -> g.trajectories().stream().map(t -> t.messages().get(1).content()).toList())
        .toList();
  }

  @Test
  void seededRolloutsGetTheSameSeedsInMemberOrderWhateverTheScheduling() {
    List<List<String>> oneAtATime = seedsSeen(5, 1);
    for (int i = 0; i < 5; i++) {
      assertEquals(oneAtATime, seedsSeen(5, 15), "concurrent gather " + i);
    }
    assertEquals(15, oneAtATime.stream().flatMap(List::stream).distinct().count(), "every rollout has its own seed");
    List<List<String>> other = seedsSeen(6, 15);
    assertTrue(Collections.disjoint(
        oneAtATime.stream().flatMap(List::stream).toList(), other.stream().flatMap(List::stream).toList()),
        "another gather seed gives other rollout seeds");
  }
}
