package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.art4j.core.chat.Message;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdvantagesTest {

  static TrajectoryGroup group(double... rewards) {
    return TrajectoryGroup.of(Arrays.stream(rewards)
        .mapToObj(r -> Trajectory.ofMessages(List.of(Message.user("q"))).withReward(r)).toList());
  }

  @Test
  void equalRewardsGiveNoSignal() {
    // 0.1 * 3 / 3 is not exactly 0.1 in doubles: equal rewards must still give exact zeros
    assertArrayEquals(new double[3], Advantages.of(new double[] {0.1, 0.1, 0.1}, true));
    assertArrayEquals(new double[3], Advantages.of(new double[] {0.1, 0.1, 0.1}, false));
    Advantages.Result r = Advantages.compute(List.of(group(0.1, 0.1, 0.1)), true);
    assertEquals(0, r.kept().size());
    assertEquals(1, r.skippedGroups());
    assertEquals(1.0, r.skippedFraction());
  }

  @Test
  void singletonGroupIsSkipped() {
    Advantages.Result r = Advantages.compute(List.of(group(0.7), group(1, 0)), true);
    assertEquals(1, r.skippedGroups());
    assertEquals(2, r.kept().size());
    assertEquals(1, r.kept().get(0).group());
    assertEquals(0.5, r.skippedFraction());
  }

  @Test
  void mixedRewardsByHand() {
    // rewards 1, 0, 0, 0.5: mean 0.375; deviations 0.625, -0.375, -0.375, 0.125
    // population variance (0.390625 + 0.140625 * 2 + 0.015625) / 4 = 0.171875, std = 0.414578
    double std = Math.sqrt(0.171875);
    double[] raw = Advantages.of(new double[] {1, 0, 0, 0.5}, false);
    assertArrayEquals(new double[] {0.625, -0.375, -0.375, 0.125}, raw, 1e-15);
    double[] scaled = Advantages.of(new double[] {1, 0, 0, 0.5}, true);
    for (int i = 0; i < 4; i++) {
      assertEquals(raw[i] / (std + 1e-6), scaled[i], 1e-12);
    }
    // a trajectory exactly at the mean is dropped, the others kept
    Advantages.Result r = Advantages.compute(List.of(group(1, 0.5, 0), group(2, 2)), true);
    assertEquals(2, r.kept().size());
    assertEquals(List.of(0, 2), r.kept().stream().map(Advantages.Scored::index).toList());
    assertEquals(1.0 / (Math.sqrt(1.0 / 6) + 1e-6) * 0.5, r.kept().get(0).advantage(), 1e-12);
    assertEquals(1, r.skippedGroups());
    assertEquals((1 + 0.5 + 0 + 2 + 2) / 5.0, r.rewardMean(), 1e-12);
  }
}
