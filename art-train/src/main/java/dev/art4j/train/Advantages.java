package dev.art4j.train;

import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.util.ArrayList;
import java.util.List;

/**
 * Group-relative advantages: within each group,
 * {@code A_i = r_i - mean(r)}, and with {@code scale}, {@code A_i = (r_i - mean(r)) / (std(r) + 1e-6)}
 * ({@code std} the population standard deviation). A trajectory with {@code A_i == 0} carries no
 * signal and is dropped; so is every trajectory of a group whose rewards are all equal (a
 * singleton group included), which then counts as skipped.
 */
final class Advantages {

  static final double STD_EPS = 1e-6;

  /** A trajectory kept for training, with its advantage and where it came from. */
  record Scored(Trajectory trajectory, double advantage, int group, int index) {}

  /**
   * @param kept          trajectories with a non-zero advantage
   * @param groups        groups given
   * @param skippedGroups groups with nothing kept (empty, singleton, or equal rewards)
   * @param rewardMean    mean reward over all trajectories given (NaN if none)
   * @param rewardStd     population std of all rewards given (NaN if none)
   * @param trajectories  trajectories given
   */
  record Result(List<Scored> kept, int groups, int skippedGroups, double rewardMean, double rewardStd,
      int trajectories) {

    double skippedFraction() {
      return groups == 0 ? 1.0 : (double) skippedGroups / groups;
    }
  }

  private Advantages() {}

  static Result compute(List<TrajectoryGroup> groups, boolean scale) {
    List<Scored> kept = new ArrayList<>();
    int skipped = 0;
    double sum = 0;
    double sumSq = 0;
    int count = 0;
    for (int g = 0; g < groups.size(); g++) {
      List<Trajectory> ts = groups.get(g).trajectories();
      double[] r = new double[ts.size()];
      for (int i = 0; i < r.length; i++) {
        r[i] = ts.get(i).reward();
        if (!Double.isFinite(r[i])) {
          throw new IllegalArgumentException("group " + g + " trajectory " + i + " has reward " + r[i]);
        }
        sum += r[i];
        sumSq += r[i] * r[i];
        count++;
      }
      double[] a = of(r, scale);
      int before = kept.size();
      for (int i = 0; i < r.length; i++) {
        if (a[i] != 0.0) {
          kept.add(new Scored(ts.get(i), a[i], g, i));
        }
      }
      if (kept.size() == before) {
        skipped++;
      }
    }
    double mean = count == 0 ? Double.NaN : sum / count;
    double std = count == 0 ? Double.NaN : Math.sqrt(Math.max(0, sumSq / count - mean * mean));
    return new Result(List.copyOf(kept), groups.size(), skipped, mean, std, count);
  }

  /** The advantages of one group's rewards; all zero when the rewards are all equal. */
  static double[] of(double[] rewards, boolean scale) {
    int n = rewards.length;
    double[] a = new double[n];
    if (n < 2) {
      return a;
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double mean = 0;
    for (double r : rewards) {
      min = Math.min(min, r);
      max = Math.max(max, r);
      mean += r;
    }
    if (min == max) {
      // exactly zero, whatever rounding mean() would introduce
      return a;
    }
    mean /= n;
    double var = 0;
    for (double r : rewards) {
      var += (r - mean) * (r - mean);
    }
    double denom = scale ? Math.sqrt(var / n) + STD_EPS : 1.0;
    for (int i = 0; i < n; i++) {
      a[i] = (rewards[i] - mean) / denom;
    }
    return a;
  }
}
