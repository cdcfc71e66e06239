package dev.art4j.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench train} in-process on a fixture checkpoint (the 0.5B shape is for the real run). */
class BenchTrainCommandTest {

  static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cmd = new CommandLine(new BenchTrainCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setOut(new PrintWriter(out));
    cmd.setErr(new PrintWriter(err));
    return cmd.execute(args);
  }

  @Test
  void printsTheFiguresAsJson() throws Exception {
    Path model = Path.of(System.getProperty("art4j.fixtures")).resolve("models").resolve("tiny-qwen2");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = run(out, err, "--model", model.toString(), "--batch", "4", "--seq", "16", "--prompt", "4",
        "--token-budget", "32", "--steps", "2", "--loss", "gspo");
    assertEquals(0, status, err.toString());
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertEquals("GSPO", json.get("loss").asText());
    assertEquals(4 * 12, json.get("trained_tokens").asInt(), "sampled tokens of 4 sequences");
    for (String field : new String[] {"train_tok_s", "prefill_tok_s", "forward_backward_s", "optimizer_s", "peak_rss_mb"}) {
      assertTrue(json.get(field).asDouble() > 0, field + " = " + json.get(field));
    }
    assertTrue(json.get("step_s").asDouble() >= json.get("forward_backward_s").asDouble());
    assertEquals("auto", json.get("activation_checkpointing").asText(), "the trainer's default");
    assertEquals(0, json.get("checkpointed_layers").asInt(), "a tiny model fits: nothing recomputed");
    assertEquals(false, json.get("selective_checkpointing").asBoolean(), "a tiny model fits whole");
    double parts = 0;
    for (String field : new String[] {"forward_s", "head_s", "backward_s"}) {
      assertTrue(json.get(field).asDouble() > 0, field + " = " + json.get(field));
      parts += json.get(field).asDouble();
    }
    assertTrue(parts <= json.get("forward_backward_s").asDouble(), "the parts of forward_backward_s: " + json);
    assertEquals(3, err.toString().lines().filter(l -> l.startsWith("bench train: prefill")).count(),
        "a prefill before each of the 2 steps and one after: " + err);
  }

  /** {@code --json}, as on every bench subcommand: the same object on one line. */
  @Test
  void jsonPrintsTheResultOnOneLine() throws Exception {
    JsonNode json = smallRun("--selective-checkpointing", "false");
    assertEquals(2 * 8, json.get("trained_tokens").asInt());
    assertEquals(false, json.get("selective_checkpointing").asBoolean());
  }

  /** A fixed fraction is printed as given, and the layers it recomputes with it. */
  @Test
  void aFixedCheckpointingFractionIsReported() throws Exception {
    JsonNode json = smallRun("--activation-checkpointing", "1");
    assertEquals(1.0, json.get("activation_checkpointing").asDouble());
    assertEquals(2, json.get("checkpointed_layers").asInt(), "both layers of tiny-qwen2");
    assertEquals(false, json.get("selective_checkpointing").asBoolean(), "no layer left to recompute selectively");
  }

  /** One step of 2 x 12 tokens on the tiny fixture with {@code --json} and {@code extra}: the one-line result. */
  private static JsonNode smallRun(String... extra) throws Exception {
    Path model = Path.of(System.getProperty("art4j.fixtures")).resolve("models").resolve("tiny-qwen2");
    List<String> args = new ArrayList<>(List.of("--json", "--model", model.toString(),
        "--batch", "2", "--seq", "12", "--prompt", "4", "--token-budget", "32", "--steps", "1"));
    args.addAll(List.of(extra));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(0, run(out, err, args.toArray(String[]::new)), err.toString());
    assertEquals(1, out.toString().strip().lines().count(), out.toString());
    return new ObjectMapper().readTree(out.toString());
  }

  @Test
  void badSizesAreRejected() {
    StringWriter err = new StringWriter();
    assertEquals(2, run(new StringWriter(), err, "--seq", "8", "--prompt", "8"));
    assertTrue(err.toString().contains("--prompt < --seq"), err.toString());
  }
}
