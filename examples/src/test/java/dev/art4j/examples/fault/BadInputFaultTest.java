package dev.art4j.examples.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.cli.Art4j;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad inputs across the public API and the command line: every one fails with a message that
 * names the file, field, option or value at fault (exit status 2 on the command line), and
 * nothing half-done is left behind.
 */
class BadInputFaultTest {

  @TempDir Path dir;

  static Path fixture(String name) {
    return Path.of(System.getProperty("art4j.fixtures", "../art-core/src/test/resources/fixtures")).resolve("models/" + name);
  }

  /** Exit status and stderr of an in-process {@code art4j} command line. */
  record Cli(int rc, String out, String err) {}

  static Cli art4j(String... args) {
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int rc = Art4j.run(args);
      return new Cli(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  static void assertBadInput(Cli r, String... mentions) {
    assertEquals(2, r.rc(), "exit status; stderr: " + r.err());
    for (String m : mentions) {
      assertTrue(r.err().contains(m), "stderr should mention '" + m + "': " + r.err());
    }
  }

  // ------------------------------------------------------------------ command line

  @Test
  void cliMissingModelFolder() {
    assertBadInput(art4j("train", "math", "--model", dir.resolve("nope").toString()), dir.resolve("nope").toString(),
        "no such folder");
  }

  @Test
  void cliFolderThatIsNotACheckpoint() {
    assertBadInput(art4j("train", "math", "--model", dir.toString()), dir.toString(), "config.json");
  }

  @Test
  void cliWrongTypeAndNegativeSizes() {
    assertBadInput(art4j("train", "math", "--group-size", "abc"), "--group-size", "abc");
    assertBadInput(art4j("train", "math", "--model", fixture("tiny-chat").toString(), "--steps", "-1"), "--steps");
    assertBadInput(art4j("train", "math", "--model", fixture("tiny-chat").toString(), "--group-size", "1"),
        "--group-size must be at least 2");
    assertBadInput(art4j("generate", "--model", fixture("tiny-chat").toString(), "--tokens", "1,2",
        "--max-new-tokens", "-3"), "--max-new-tokens must be at least 1");
  }

  @Test
  void cliTokenOutsideTheVocabulary() {
    assertBadInput(art4j("score", "--model", fixture("tiny-chat").toString(), "--tokens", "1,99999"), "99999");
  }

  @Test
  void cliMissingAndMalformedDatasetFiles() throws Exception {
    Path missing = dir.resolve("missing.jsonl");
    assertBadInput(art4j("train", "dataset", "--file", missing.toString()), missing.toString());
    Path broken = dir.resolve("broken.jsonl");
    Files.writeString(broken, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n{\"question\": \"2+2?\", \"answer\n");
    assertBadInput(art4j("train", "dataset", "--file", broken.toString()), broken.toString(), "line 2");
    Path wrongType = dir.resolve("wrong.jsonl");
    Files.writeString(wrongType, "{\"question\": \"1+1?\", \"answer\": \"2\"}\n[1, 2, 3]\n");
    assertBadInput(art4j("train", "dataset", "--file", wrongType.toString()), wrongType.toString(), "line 2");
  }

  @Test
  void cliReportOnAFolderThatIsNoRun() {
    assertBadInput(art4j("report", dir.toString()), dir.toString(), "not a run folder");
    assertTrue(Files.notExists(dir.resolve("report.html")), "nothing written");
  }

  // ------------------------------------------------------------------ public API

  @Test
  void apiMissingCheckpointFilesAreNamed() {
    Path nope = dir.resolve("no-model");
    Exception e = assertThrows(Exception.class, () -> Policy.load(nope));
    assertTrue(e.getMessage().contains(nope.toString()), e.getMessage());
    Exception t = assertThrows(Exception.class, () -> Tokenizer.load(nope));
    assertTrue(t.getMessage().contains(nope.toString()), t.getMessage());
  }

  @Test
  void apiConfigFieldsOfTheWrongTypeOrMissingAreNamed() throws Exception {
    String good = Files.readString(fixture("tiny-qwen2").resolve("config.json"));
    Path wrongType = dir.resolve("wrong-type.json");
    Files.writeString(wrongType, good.replace("\"hidden_size\": 64", "\"hidden_size\": \"sixty-four\""));
    Exception e = assertThrows(Exception.class, () -> ModelConfig.load(wrongType));
    assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
    Path missing = dir.resolve("missing-field.json");
    Files.writeString(missing, good.replace("\"num_hidden_layers\": 2,", ""));
    Exception m = assertThrows(Exception.class, () -> ModelConfig.load(missing));
    assertTrue(m.getMessage().contains("num_hidden_layers"), m.getMessage());
  }

  @Test
  void apiTruncatedWeightsAreNamedNotLoaded() throws Exception {
    Path model = dir.resolve("truncated");
    Files.createDirectories(model);
    Files.copy(fixture("tiny-qwen2").resolve("config.json"), model.resolve("config.json"));
    byte[] weights = Files.readAllBytes(fixture("tiny-qwen2").resolve("model.safetensors"));
    Files.write(model.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
    Exception e = assertThrows(Exception.class, () -> Policy.load(model));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  @Test
  void apiNegativeSizesNameTheParameter() {
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class, () -> new LoraConfig(-8, 16, 0));
    assertTrue(rank.getMessage().contains("rank") && rank.getMessage().contains("-8"), rank.getMessage());
    IllegalArgumentException tokens = assertThrows(IllegalArgumentException.class,
        () -> SamplingParams.builder().maxNewTokens(-1).build());
    assertTrue(tokens.getMessage().contains("maxNewTokens"), tokens.getMessage());
    IllegalArgumentException group = assertThrows(IllegalArgumentException.class,
        () -> Gather.builder(List.of("a"), (String s) -> Trajectory.ofMessages(List.of(Message.user(s)))).groupSize(-2));
    assertTrue(group.getMessage().contains("groupSize") && group.getMessage().contains("-2"), group.getMessage());
  }

  @Test
  void apiEmptyGroupsSkipTheStepWithAReasonAndLeaveTheAdapterAlone() throws Exception {
    try (Policy policy = Policy.load(fixture("tiny-qwen2"));
         GrpoTrainer trainer = GrpoTrainer.builder(policy).lora(new LoraConfig(4, 8, 0), 1)
             .runStore(RunStore.open(dir.resolve("run"))).build()) {
      float[] before = trainer.adapter().parameters().get(1).toFloatArray();
      TrainResult none = trainer.train(List.of());
      assertTrue(none.skipped() && !none.note().isBlank(), none.toString());
      TrainResult empty = trainer.train(List.of(new TrajectoryGroup(List.of(), List.of(new RuntimeException("rollout failed")))));
      assertTrue(empty.skipped(), empty.toString());
      TrainResult single = trainer.train(List.of(new TrajectoryGroup(
          List.of(Trajectory.ofMessages(List.of(Message.user("q"))).withReward(1)), List.of())));
      assertTrue(single.skipped(), "a group of one has no advantage: " + single);
      assertEquals(3, trainer.step(), "skipped steps are still counted");
      assertTrue(java.util.Arrays.equals(before, trainer.adapter().parameters().get(1).toFloatArray()), "adapter unchanged");
      assertEquals(3, RunStore.open(dir.resolve("run")).history("train").size());
    }
  }

  @Test
  void apiMcpServerThatCannotStartIsNamed() {
    Path bogus = dir.resolve("no-such-server");
    Exception e = assertThrows(Exception.class,
        () -> McpToolset.builder().stdio("calc", List.of(bogus.toString())).build().close());
    assertTrue(e.getMessage().contains("calc") && e.getMessage().contains(bogus.toString()), e.getMessage());
  }

  @Test
  void apiCorruptHistoryLineIsNamedByFileAndLine() throws Exception {
    RunStore store = RunStore.open(dir.resolve("run"));
    Files.createDirectories(store.dir());
    Files.writeString(store.historyFile(), "{\"step\":1,\"split\":\"train\",\"metrics\":{}}\nnot json\n");
    Exception e = assertThrows(Exception.class, store::history);
    assertTrue(e.getMessage().contains("history.jsonl") && e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void reportOnARunWithACorruptHistoryLineIsOneLine() throws Exception {
    Files.writeString(dir.resolve("history.jsonl"),
        "{\"step\":1,\"split\":\"train\",\"metrics\":{}}\n{\"step\":2,\"split\n{\"step\":3,\"split\":\"train\",\"metrics\":{}}\n");
    Cli r = art4j("report", dir.toString());
    assertBadInput(r, dir.resolve("history.jsonl") + " line 2 is not a history entry");
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(!Files.exists(dir.resolve("report.html")));
  }

  /** Exit 2 (or {@code rc}), one line on stderr that mentions each of {@code mentions}, no stack trace. */
  static void assertOneLine(Cli r, int rc, String... mentions) {
    assertEquals(rc, r.rc(), "exit status; stderr: " + r.err());
    for (String m : mentions) {
      assertTrue(r.err().contains(m), "stderr should mention '" + m + "': " + r.err());
    }
    java.util.List<String> own = r.err().lines().filter(l -> l.startsWith("art4j")).toList();
    assertEquals(1, own.size(), "one line of our own: " + r.err());
    assertTrue(!r.err().contains("\tat ") && !r.err().contains("Exception in"), "no stack trace: " + r.err());
  }

  @Test
  void cliOutOfRangeNumbersAreRejectedWithoutAStackTraceOrARunFolder() {
    String tiny = fixture("tiny-qwen2").toString();
    assertOneLine(art4j("generate", "--model", tiny, "--tokens", "1,2", "--max-new-tokens", "3", "--temperature", "NaN"),
        2, "--temperature", "NaN");
    assertOneLine(art4j("generate", "--model", tiny, "--tokens", "1,2", "--max-new-tokens", "2147483647"),
        2, "--max-new-tokens 2147483647", "max_position_embeddings");
    assertOneLine(art4j("generate", "--model", tiny, "--tokens", "1,2", "--max-new-tokens", "3", "--top-p", "NaN"), 2, "--top-p");
    String chat = fixture("tiny-chat").toString();
    Path run = dir.resolve("run");
    for (String[] bad : new String[][] {{"--train-size", "0"}, {"--val-size", "0"}, {"--lr", "NaN"}, {"--temperature", "0"},
        {"--eval-every", "-1"}, {"--lora-rank", "0"}, {"--max-tokens", "0"}, {"--groups", "0"}}) {
      Cli r = art4j("train", "math", "--model", chat, "--run-dir", run.toString(), "--steps", "1", bad[0], bad[1]);
      assertOneLine(r, 2, bad[0]);
      assertTrue(!Files.exists(run), bad[0] + " " + bad[1] + ": a rejected run leaves no run folder");
    }
    Cli judge = art4j("train", "math", "--model", chat, "--run-dir", run.toString(), "--ruler", "--judge-base-url",
        "http://127.0.0.1:9/v1", "--judge-model", "j", "--judge-timeout", "0");
    assertOneLine(judge, 2, "--judge-timeout");
    assertTrue(!Files.exists(run), "a rejected judge option leaves no run folder");
  }

  @Test
  void cliRuntimeFailuresAreOneLineWithExit1AndTheTraceUnderDebug() {
    Cli r = art4j("mcp", "list", "--stdio", dir.resolve("no-such-server").toString(), "--timeout", "5");
    assertOneLine(r, 1, "no-such-server");
    Cli debug = art4j("mcp", "list", "--stdio", dir.resolve("no-such-server").toString(), "--timeout", "5", "--debug");
    assertEquals(1, debug.rc());
    assertTrue(debug.err().contains("\tat "), "--debug prints the stack trace: " + debug.err());
    assertOneLine(art4j("mcp", "list", "--http", "http://127.0.0.1:9/mcp", "--timeout", "0"), 2, "--timeout");
  }

  @Test
  void aBrokenTokenizerStopsOnlyTheCommandsThatNeedIt() throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer_config.json"}) {
      Files.copy(fixture("tiny-chat").resolve(f), model.resolve(f));
    }
    // an added token without its content: was a NullPointerException
    String tokenizer = Files.readString(fixture("tiny-chat").resolve("tokenizer.json"))
        .replaceFirst("\"content\"\\s*:\\s*\"[^\"]*\"\\s*,", "");
    Files.writeString(model.resolve("tokenizer.json"), tokenizer);
    Cli score = art4j("score", "--model", model.toString(), "--tokens", "1,2,3");
    assertEquals(0, score.rc(), "score needs no tokenizer: " + score.err());
    assertOneLine(art4j("generate", "--model", model.toString(), "--prompt", "hi", "--max-new-tokens", "2"), 2,
        "tokenizer.json", "added_tokens[0]");
    Files.writeString(model.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0}}, \"added_tokens\": []}");
    assertOneLine(art4j("generate", "--model", model.toString(), "--prompt", "hi", "--max-new-tokens", "2"), 2,
        "tokenizer.json");
  }
}
