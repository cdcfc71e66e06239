package dev.art4j.core.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenUsageTest {

  @Test
  void costIsTokensTimesPricePerMillion() {
    TokenPrices prices = new TokenPrices(2.5, 10.0);
    assertEquals((1_000_000 * 2.5 + 250_000 * 10.0) / 1e6, new TokenUsage(3, 1_000_000, 250_000).cost(prices), 1e-12);
    assertEquals(5.0, new TokenUsage(1, 0, 500_000).cost(prices), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> new TokenPrices(-1, 0));
    assertThrows(IllegalArgumentException.class, () -> new TokenPrices(Double.NaN, 0));
  }

  @Test
  void meterSumsConcurrentRecordsAndSnapshotsSubtract() throws Exception {
    UsageMeter meter = new UsageMeter();
    meter.record(7, 3);
    TokenUsage before = meter.total();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < 1000; i++) {
          meter.record(10, -1); // an unreported count (-1 or null upstream) adds nothing
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(new TokenUsage(4001, 40_007, 3), meter.total());
    assertEquals(new TokenUsage(4000, 40_000, 0), meter.total().minus(before));
  }
}
