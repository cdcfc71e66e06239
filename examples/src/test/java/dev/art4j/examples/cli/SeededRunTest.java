package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.examples.JudgeReplies;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --seed} makes a training run reproducible: the rollouts of a step are sampled from seeds
 * that depend on the step and their place in the batch, not on the order in which concurrent
 * rollouts reach the engine. RULER (a fake judge on 127.0.0.1 that scores trajectory i as i/10)
 * gives the groups different rewards, so every step trains.
 */
class SeededRunTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures"))
      .resolve("models/tiny-chat");

  @TempDir static Path tmp;
  static MockWebServer judge;

  @BeforeAll
  static void startJudge() throws IOException {
    judge = new MockWebServer();
    judge.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        try {
          String user = JSON.readTree(request.getBody().utf8()).get("messages").get(1).get("content").asText();
          return JudgeReplies.completion(JudgeReplies.scores(JudgeReplies.trajectoriesIn(user)));
        } catch (IOException e) {
          return new MockResponse.Builder().code(400).body(e.toString()).build();
        }
      }
    });
    judge.start();
  }

  @AfterAll
  static void stopJudge() {
    judge.close();
  }

  @Test
  void aSeedGivesTheSameRunAndAResumedRunEndsWhereAStraightOneDoes() throws Exception {
    List<JsonNode> a = train("a", 3);
    List<JsonNode> b = train("b", 3);
    assertEquals(withoutTimes(a), withoutTimes(b));
    assertEquals(List.of("val 0", "train 1", "train 2", "train 3", "val 3"),
        a.stream().map(l -> l.get("split").asText() + " " + l.get("step").asInt()).toList());
    for (JsonNode line : a) {
      if (line.get("split").asText().equals("train")) {
        assertTrue(Double.isFinite(line.get("loss").asDouble()), "every step trains: " + line);
      }
    }
    train("c", 2);
    List<JsonNode> resumed = train("c", 3);
    assertEquals(withoutTimes(a.subList(3, 5)), withoutTimes(resumed), "the resumed run's step 3");
    byte[] adapter = Files.readAllBytes(tmp.resolve("a/checkpoints/3/adapter_model.safetensors"));
    assertArrayEquals(adapter, Files.readAllBytes(tmp.resolve("b/checkpoints/3/adapter_model.safetensors")));
    assertArrayEquals(adapter, Files.readAllBytes(tmp.resolve("c/checkpoints/3/adapter_model.safetensors")));

    List<JsonNode> otherSeed = train("d", 1, "--seed", "2");
    assertTrue(!withoutTimes(a.subList(1, 2)).equals(withoutTimes(otherSeed.subList(1, 2))),
        "another seed trains on other rollouts: " + otherSeed);
  }

  private static List<JsonNode> train(String run, int steps, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("train", "math", "--model", MODEL.toString(),
        "--run-dir", tmp.resolve(run).toString(), "--json", "--steps", Integer.toString(steps),
        "--groups", "2", "--group-size", "4", "--val-size", "2", "--train-size", "20", "--eval-every", "0",
        "--max-tokens", "200", "--temperature", "5", "--torch-threads", "1",
        "--ruler", "--judge-base-url", judge.url("/v1").toString(), "--judge-model", "judge"));
    args.addAll(List.of(more));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Art4j()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
        .execute(args.toArray(String[]::new));
    assertEquals(0, code, "stderr: " + err);
    List<JsonNode> lines = new ArrayList<>();
    for (String l : out.toString().split("\n")) {
      if (!l.isBlank()) {
        lines.add(JSON.readTree(l));
      }
    }
    return lines;
  }

  /** The lines without what the clock decides. */
  private static List<String> withoutTimes(List<JsonNode> lines) {
    return lines.stream().map(l -> {
      ObjectNode o = l.deepCopy();
      o.remove(List.of("seconds", "tokens_per_second"));
      return o.toString();
    }).toList();
  }
}
