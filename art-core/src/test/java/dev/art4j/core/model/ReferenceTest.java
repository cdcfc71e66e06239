package dev.art4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every fixture checkpoint against log-probs computed in float64 by an independent
 * implementation of the Hugging Face modelling code: base and adapter, every case.
 */
class ReferenceTest {

  static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @TestFactory
  List<DynamicTest> everyFixtureMatchesReference() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : Fixtures.models()) {
      JsonNode expected = Fixtures.expected(dir);
      boolean hasAdapter = Files.exists(dir.resolve("adapter/adapter_config.json"));
      tests.add(DynamicTest.dynamicTest(dir.getFileName() + " base", () -> check(dir, expected, "base")));
      if (hasAdapter) {
        tests.add(DynamicTest.dynamicTest(dir.getFileName() + " adapter", () -> check(dir, expected, "adapter")));
      }
    }
    return tests;
  }

  private static void check(Path dir, JsonNode expected, String variant) throws IOException {
    double tol = Fixtures.tolerance(expected);
    try (Transformer model = Transformer.load(dir, manager);
        Lora adapter = variant.equals("adapter") ? Lora.load(dir.resolve("adapter"), model.config(), manager) : null) {
      int cases = 0;
      for (JsonNode c : expected.get("cases")) {
        JsonNode want = c.get(variant);
        if (want == null) {
          continue;
        }
        cases++;
        long[] tokens = Fixtures.longs(c.get("tokens"));
        try (NDManager step = manager.newSubManager()) {
          NDArray logits = model.forward(step.create(tokens).reshape(1, tokens.length), adapter); // (1, T, V)
          NDArray lp = logits.logSoftmax(-1).get(0); // (T, V)
          JsonNode next = want.get("next_token_logprobs");
          assertEquals(tokens.length - 1, next.size());
          for (int i = 0; i + 1 < tokens.length; i++) {
            double got = lp.getFloat(i, tokens[i + 1]);
            assertEquals(next.get(i).asDouble(), got, tol, dir.getFileName() + " " + variant + " token " + (i + 1));
          }
          float[] last = lp.get(new NDIndex("{}", tokens.length - 1)).toFloatArray();
          JsonNode wantLast = want.get("last_position_logprobs");
          assertEquals(wantLast.size(), last.length);
          for (int v = 0; v < last.length; v++) {
            assertEquals(wantLast.get(v).asDouble(), last[v], tol, dir.getFileName() + " " + variant + " last vocab " + v);
          }
        }
        long[] greedy = Fixtures.longs(want.get("greedy_continuation"));
        assertArrayEquals(greedy, Decoding.greedy(model, adapter, tokens, greedy.length, manager),
            dir.getFileName() + " " + variant + " greedy continuation");
      }
      assertTrue(cases > 0, "no " + variant + " cases in " + dir);
    }
  }
}
