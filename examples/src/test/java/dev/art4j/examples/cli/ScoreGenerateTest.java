package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code art4j score} and {@code art4j generate} run in-process on the fixture checkpoints. */
class ScoreGenerateTest {

  static final ObjectMapper JSON = new ObjectMapper();

  record Result(int status, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  static Result run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int status = Art4j.run(args);
      return new Result(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  static Path model(String name) {
    return Path.of(System.getProperty("art4j.fixtures")).resolve("models").resolve(name);
  }

  static String ids(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return String.join(",", out);
  }

  @Test
  void scoreMatchesTheReferenceWithAndWithoutAdapter() throws Exception {
    Path dir = model("tiny-qwen2");
    JsonNode c = JSON.readTree(dir.resolve("expected.json").toFile()).get("cases").get(1);
    for (String variant : new String[] {"base", "adapter"}) {
      Result r = variant.equals("base")
          ? run("score", "--model", dir.toString(), "--tokens", ids(c.get("tokens")))
          : run("score", "--model", dir.toString(), "--adapter", dir.resolve("adapter").toString(),
              "--tokens", ids(c.get("tokens")));
      assertEquals(0, r.status(), r.err());
      JsonNode got = r.json();
      JsonNode want = c.get(variant);
      for (String field : new String[] {"next_token_logprobs", "last_position_logprobs"}) {
        assertEquals(want.get(field).size(), got.get(field).size(), field);
        for (int i = 0; i < want.get(field).size(); i++) {
          assertEquals(want.get(field).get(i).asDouble(), got.get(field).get(i).asDouble(), 1e-3, variant + " " + field + " " + i);
        }
      }
    }
  }

  @Test
  void greedyGenerateMatchesReferenceAndScore() throws Exception {
    Path dir = model("tiny-qwen3");
    JsonNode c = JSON.readTree(dir.resolve("expected.json").toFile()).get("cases").get(1);
    JsonNode greedy = c.get("base").get("greedy_continuation");
    Result r = run("generate", "--model", dir.toString(), "--tokens", ids(c.get("tokens")),
        "--max-new-tokens", String.valueOf(greedy.size()), "--temperature", "0", "--ignore-eos");
    assertEquals(0, r.status(), r.err());
    JsonNode got = r.json();
    assertEquals(greedy, got.get("tokens"));
    assertEquals("length", got.get("finish_reason").asText());
    assertFalse(got.has("text"), "no tokenizer, so no text");
    // the cached decode's log-probs equal a full forward over prompt + continuation
    Result s = run("score", "--model", dir.toString(), "--tokens", ids(c.get("tokens")) + "," + ids(greedy));
    JsonNode next = s.json().get("next_token_logprobs");
    int offset = c.get("tokens").size() - 1;
    for (int i = 0; i < greedy.size(); i++) {
      assertEquals(next.get(offset + i).asDouble(), got.get("logprobs").get(i).asDouble(), 1e-4, "logprob " + i);
    }
  }

  @Test
  void stopsAtEos(@TempDir Path tmp) throws Exception {
    Path src = model("tiny-qwen2");
    JsonNode c = JSON.readTree(src.resolve("expected.json").toFile()).get("cases").get(0);
    JsonNode greedy = c.get("base").get("greedy_continuation");
    ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
    config.putArray("eos_token_id").add(999).add(greedy.get(2).asInt());
    Files.writeString(tmp.resolve("config.json"), config.toString());
    Files.copy(src.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
    Result r = run("generate", "--model", tmp.toString(), "--tokens", ids(c.get("tokens")),
        "--max-new-tokens", "10", "--temperature", "0");
    assertEquals(0, r.status(), r.err());
    int stop = 2;
    for (int i = 0; i < 2; i++) {
      if (greedy.get(i).asInt() == greedy.get(2).asInt()) {
        stop = i;
        break;
      }
    }
    assertEquals(stop + 1, r.json().get("tokens").size());
    assertEquals("stop", r.json().get("finish_reason").asText());
  }

  @Test
  void promptTextSamplingIsSeededAndTopPNarrowsToGreedy() throws Exception {
    String dir = model("tiny-chat").toString();
    Result a = run("generate", "--model", dir, "--prompt", "<|im_start|>user\nhello<|im_end|>\n",
        "--max-new-tokens", "8", "--temperature", "1.5", "--seed", "42", "--ignore-eos");
    Result b = run("generate", "--model", dir, "--prompt", "<|im_start|>user\nhello<|im_end|>\n",
        "--max-new-tokens", "8", "--temperature", "1.5", "--seed", "42", "--ignore-eos");
    assertEquals(0, a.status(), a.err());
    assertEquals(a.out(), b.out());
    assertEquals(8, a.json().get("tokens").size());
    assertTrue(a.json().has("text"));
    Result greedy = run("generate", "--model", dir, "--prompt", "hello", "--max-new-tokens", "6", "--temperature", "0", "--ignore-eos");
    Result narrow = run("generate", "--model", dir, "--prompt", "hello", "--max-new-tokens", "6",
        "--temperature", "1", "--top-p", "1e-6", "--seed", "7", "--ignore-eos");
    assertEquals(greedy.json().get("tokens"), narrow.json().get("tokens"));
  }

  @Test
  void badInputsAreReported() throws Exception {
    Result r = run("generate", "--model", model("tiny-qwen2").toString(), "--prompt", "hi", "--max-new-tokens", "3");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--prompt needs tokenizer.json"), r.err());
    r = run("score", "--model", model("tiny-qwen2").toString(), "--tokens", "1,99999");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("99999"), r.err());
    r = run("score", "--model", "/nonexistent", "--tokens", "1");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("/nonexistent"), r.err());
    assertTrue(r.out().isEmpty(), "nothing on stdout on error");
    r = run("generate", "--model", model("tiny-qwen2").toString(), "--tokens", "1", "--prompt", "x", "--max-new-tokens", "3");
    assertEquals(2, r.status());
  }

  @Test
  void anAdapterWhoseConfigDropsModulesIsRefusedUnlessPartial(@TempDir Path tmp) throws Exception {
    Path dir = model("tiny-qwen2");
    Path adapter = tmp.resolve("q-only");
    Files.createDirectories(adapter);
    Files.copy(dir.resolve("adapter/adapter_model.safetensors"), adapter.resolve("adapter_model.safetensors"));
    Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"q_proj\"]}");
    Result r = run("score", "--model", dir.toString(), "--adapter", adapter.toString(), "--tokens", "5,17,42");
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("adapter_model.safetensors") && r.err().contains("does not target"), r.err());
    assertTrue(r.out().isEmpty(), r.out());
    Result partial = run("score", "--model", dir.toString(), "--adapter", adapter.toString(), "--partial-adapter",
        "--tokens", "5,17,42");
    assertEquals(0, partial.status(), partial.err());
    Result full = run("score", "--model", dir.toString(), "--adapter", dir.resolve("adapter").toString(),
        "--tokens", "5,17,42");
    assertFalse(full.json().get("next_token_logprobs").equals(partial.json().get("next_token_logprobs")));
  }
}
