package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MicroBatchTest {

  /** A sample whose last trained position is {@code length} (so it feeds {@code length} tokens). */
  static Sample sample(int length) {
    return new Sample(new int[length + 1], new int[] {length}, new float[1], new float[1], 1f, 1f);
  }

  @Test
  void respectsTheBudgetAndKeepsEverySample() {
    int[] lengths = {5, 40, 7, 12, 12, 3, 30, 8, 100, 9};
    List<Sample> samples = new ArrayList<>();
    for (int l : lengths) {
      samples.add(sample(l));
    }
    List<MicroBatch> plan = MicroBatch.plan(samples, 48);
    int rows = 0;
    for (MicroBatch mb : plan) {
      rows += mb.rows.size();
      if (mb.rows.size() > 1) {
        assertTrue(mb.slots() <= 48, "over budget: " + mb.rows.size() + " x " + mb.length);
      }
      assertEquals(mb.rows.stream().mapToInt(Sample::inputLength).max().orElseThrow(), mb.length);
    }
    assertEquals(lengths.length, rows);
    // the 100-token sequence exceeds the budget: it goes alone
    assertTrue(plan.stream().anyMatch(mb -> mb.rows.size() == 1 && mb.length == 100));
    // sorted by length, so similar lengths share a batch: little padding overall
    long real = plan.stream().mapToLong(MicroBatch::realTokens).sum();
    long slots = plan.stream().mapToLong(MicroBatch::slots).sum();
    assertEquals(226, real);
    assertTrue(real >= 0.8 * slots, "padding " + (slots - real) + " of " + slots);
  }
}
