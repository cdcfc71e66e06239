package dev.art4j.examples.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.art4j.core.chat.Message;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.rollout.gather.Gather;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RlLoopTest {

  /** No rollout of a run samples from the seed of another: every step gets fresh sampling noise. */
  @Test
  void rolloutSeedsNeverRepeatAcrossTheStepsOfARun() {
    List<Integer> scenarios = IntStream.range(0, 16).boxed().toList();
    for (long runSeed : new long[] {0, 1, 2}) {
      Set<String> seen = new HashSet<>();
      int rollouts = 0;
      for (int step = 1; step <= 30; step++) {
        List<TrajectoryGroup> groups = Gather.builder(scenarios,
                (Integer s, long seed) -> Trajectory.ofMessages(List.of(Message.assistant(Long.toString(seed)))))
            .seed(RlLoop.gatherSeed(runSeed, step)).groupSize(8).concurrency(4).progress(null).build().run();
        for (TrajectoryGroup g : groups) {
          for (Trajectory t : g.trajectories()) {
            seen.add(t.messages().get(0).content());
            rollouts++;
          }
        }
      }
      assertEquals(30 * 16 * 8, rollouts);
      assertEquals(rollouts, seen.size(), "run seed " + runSeed + ": rollout seeds repeated across steps");
    }
  }
}
