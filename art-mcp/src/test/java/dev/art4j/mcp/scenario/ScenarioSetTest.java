package dev.art4j.mcp.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioSetTest {

  static ScenarioSet sample() {
    List<Scenario> list = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      list.add(new Scenario("task number " + i, i % 5 + 1, i % 4 == 0 ? Integer.toString(i) : null, Map.of("i", Integer.toString(i))));
    }
    return new ScenarioSet(list);
  }

  @Test
  void seededShuffleIsRepeatableAndKeepsEveryScenario() {
    ScenarioSet set = sample();
    assertEquals(set.shuffle(7), set.shuffle(7));
    assertNotEquals(set.shuffle(7), set.shuffle(8));
    assertNotEquals(set, set.shuffle(7));
    assertEquals(new java.util.HashSet<>(set.scenarios()), new java.util.HashSet<>(set.shuffle(7).scenarios()));
  }

  @Test
  void splitAndFilter() {
    ScenarioSet.Split split = sample().shuffle(1).split(0.8);
    assertEquals(16, split.train().size());
    assertEquals(4, split.validation().size());
    assertTrue(split.train().scenarios().stream().noneMatch(split.validation().scenarios()::contains));
    ScenarioSet hard = sample().withDifficulty(4, 5);
    assertEquals(8, hard.size());
    assertTrue(hard.scenarios().stream().allMatch(s -> s.difficulty() >= 4));
    assertThrows(IllegalArgumentException.class, () -> sample().split(1.5));
  }

  @Test
  void jsonRoundTripThroughAFile(@TempDir Path dir) throws Exception {
    ScenarioSet set = sample();
    Path file = dir.resolve("sub/scenarios.json");
    set.write(file);
    assertEquals(set, ScenarioSet.read(file));
    assertTrue(Files.readString(file).contains("\"reference_answer\" : \"4\""));
    try (var files = Files.list(file.getParent())) {
      assertEquals(1, files.count(), "no temporary file left behind");
    }
    assertEquals(set.scenarios().subList(0, 1),
        ScenarioSet.fromJson("[{\"task\": \"task number 0\", \"difficulty\": 1, \"reference_answer\": \"0\", \"metadata\": {\"i\": \"0\"}}]").scenarios());
  }

  @Test
  void badEntriesNameTheirIndex() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ScenarioSet.fromJson("{\"scenarios\": [{\"task\": \"ok\", \"difficulty\": 2}, {\"task\": \"x\", \"difficulty\": 7}]}"));
    assertTrue(e.getMessage().startsWith("scenario 1 is invalid: "), e.getMessage());
    assertTrue(e.getMessage().contains("difficulty must be 1 to 5, got 7"), e.getMessage());
  }

  @Test
  void summary() {
    assertEquals("20 scenarios; difficulty 1: 4, 2: 4, 3: 4, 4: 4, 5: 4; mean task length 14 chars; 5 with reference answers",
        sample().summary());
    assertEquals("0 scenarios", new ScenarioSet(List.of()).summary());
  }
}
