package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.examples.JudgeReplies;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulerCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  // A saved group as the run store writes it, plus a field art4j does not know.
  private static final String GROUP = String.join("\n",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 17 + 25?\"},"
          + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
          + "\"function\":{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":17,\\\"b\\\":25}\"}}]},"
          + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\"},"
          + "{\"role\":\"assistant\",\"content\":\"It is 42 (ALPHA).\"}],"
          + "\"reward\":0.5,\"metadata\":{\"scenario\":\"s1\"},\"extra_field\":{\"kept\":true}}",
      "",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 17 + 25?\"},"
          + "{\"role\":\"assistant\",\"content\":\"It is 41 (BRAVO).\"}]}",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 17 + 25?\"},"
          + "{\"role\":\"assistant\",\"content\":\"Forty-two (CHARLIE).\"}],\"tools\":[{\"name\":\"add\","
          + "\"description\":\"Adds two numbers\",\"parameters\":{\"type\":\"object\"}}]}",
      "");

  @TempDir Path dir;
  private MockWebServer server;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start();
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void tearDown() {
    System.setOut(savedOut);
    System.setErr(savedErr);
    server.close();
  }

  private int run(String... extra) throws IOException {
    Path group = dir.resolve("group.jsonl");
    if (!Files.exists(group)) {
      Files.writeString(group, GROUP);
    }
    List<String> args = new java.util.ArrayList<>(List.of("ruler", "--group", group.toString(),
        "--base-url", server.url("/v1").toString(), "--model", "judge-model"));
    args.addAll(List.of(extra));
    return Art4j.run(args.toArray(String[]::new));
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void scoresASavedGroupEndToEnd() throws Exception {
    server.enqueue(JudgeReplies.completion("{\"scores\":[{\"trajectory_id\":\"3\",\"explanation\":\"words\",\"score\":0.6},"
        + "{\"trajectory_id\":\"1\",\"explanation\":\"used the tool\",\"score\":0.95},"
        + "{\"trajectory_id\":\"2\",\"explanation\":\"wrong\",\"score\":0.05}]}"));
    Path rubric = dir.resolve("rubric.txt");
    Files.writeString(rubric, "Only the final number matters (RUBRIC-MARK).");
    // a test cannot set an environment variable: one that is always set stands in for the key
    String keyVar = Stream.of("HOME", "PATH", "USER")
        .filter(v -> System.getenv(v) != null && System.getenv(v).matches("[\\x21-\\x7e]{1,2000}"))
        .findFirst().orElse(null);
    Assumptions.assumeTrue(keyVar != null, "no environment variable usable as a stand-in key");
    String key = System.getenv(keyVar);

    int status = run("--api-key-env", keyVar, "--rubric", rubric.toString());

    assertEquals(0, status, stderr());
    JsonNode scores = JSON.readTree(stdout()).get("scores");
    assertEquals(3, scores.size());
    double[] want = {0.95, 0.05, 0.6};
    String[] why = {"used the tool", "wrong", "words"};
    for (int i = 0; i < 3; i++) {
      assertEquals(i + 1, scores.get(i).get("trajectory_id").asInt());
      assertEquals(want[i], scores.get(i).get("score").asDouble(), 0.0);
      assertEquals(why[i], scores.get(i).get("explanation").asText());
    }
    RecordedRequest r = server.takeRequest();
    assertEquals("/v1/chat/completions", r.getUrl().encodedPath());
    assertEquals("Bearer " + key, r.getHeaders().get("Authorization"));
    JsonNode body = JSON.readTree(r.getBody().utf8());
    assertEquals("judge-model", body.get("model").asText());
    assertEquals("json_schema", body.get("response_format").get("type").asText());
    String system = body.get("messages").get(0).get("content").asText();
    String user = body.get("messages").get(1).get("content").asText();
    assertTrue(system.contains("RUBRIC-MARK"), system);
    assertTrue(user.contains("[tool call add #c1] {\"a\":17,\"b\":25}") && user.contains("ALPHA")
        && user.contains("BRAVO") && user.contains("CHARLIE") && user.contains("- add: Adds two numbers"), user);
    assertEquals(user.indexOf("What is 17 + 25?"), user.lastIndexOf("What is 17 + 25?"), "shared question sent once");
    assertFalse(stdout().contains(key) || stderr().contains(key), "the API key is never printed");
  }

  @Test
  void missingKeyVariableIsABadInput() throws Exception {
    int status = run("--api-key-env", "ART4J_TEST_SURELY_UNSET_KEY", "--no-json-schema");
    assertEquals(2, status);
    assertTrue(stderr().contains("ART4J_TEST_SURELY_UNSET_KEY") && stderr().contains("not set"), stderr());
    assertEquals(0, server.getRequestCount());
    assertEquals("", stdout());
  }

  @Test
  void badLineIsNamedByFileAndLine() throws Exception {
    Files.writeString(dir.resolve("group.jsonl"), GROUP.replace("\"role\":\"assistant\",\"content\":\"It is 41",
        "\"role\":\"robot\",\"content\":\"It is 41"));
    assertEquals(2, run());
    assertTrue(stderr().contains("group.jsonl:3") && stderr().contains("robot"), stderr());

    Files.writeString(dir.resolve("group.jsonl"), "{\"reward\": 1}\n");
    assertEquals(2, run());
    assertTrue(stderr().contains("group.jsonl:1") && stderr().contains("no \"messages\""), stderr());
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void judgeFailureExitsWithOneAndAClearMessage() throws Exception {
    server.enqueue(new MockResponse.Builder().code(500).body("{\"error\":{\"message\":\"overloaded\"}}").build());
    server.enqueue(JudgeReplies.completion("{\"scores\":[]}"));
    assertEquals(1, run("--max-retries", "1", "--no-json-schema"));
    assertTrue(stderr().contains("after 2 attempts") && stderr().contains("expected 3 scores but got 0"), stderr());
    assertEquals("", stdout());
    RecordedRequest first = server.takeRequest();
    assertFalse(JSON.readTree(first.getBody().utf8()).has("response_format"));
    assertNull(first.getHeaders().get("Authorization"), "no --api-key-env: no key sent");
  }
}
