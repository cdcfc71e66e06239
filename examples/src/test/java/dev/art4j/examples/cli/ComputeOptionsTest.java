package dev.art4j.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code --device}, {@code --dtype} and {@code --backend} on the commands, and their errors. */
class ComputeOptionsTest {

  private static ScoreGenerateTest.Result generate(String... extra) {
    Path dir = ScoreGenerateTest.model("tiny-qwen2");
    String[] base = {"generate", "--model", dir.toString(), "--adapter", dir.resolve("adapter").toString(),
        "--tokens", "1,17,33,50,7,9", "--max-new-tokens", "8", "--temperature", "0", "--ignore-eos"};
    String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return ScoreGenerateTest.run(args);
  }

  @Test
  void bothBackendsGenerateTheSameGreedyTokensAndLogprobs() throws Exception {
    ScoreGenerateTest.Result java = generate("--backend", "java");
    ScoreGenerateTest.Result tensor = generate("--backend", "tensor", "--device", "cpu");
    assertEquals(0, java.status(), java.err());
    assertEquals(0, tensor.status(), tensor.err());
    JsonNode a = java.json();
    JsonNode b = tensor.json();
    assertEquals(a.get("tokens"), b.get("tokens"));
    for (int i = 0; i < a.get("logprobs").size(); i++) {
      assertEquals(a.get("logprobs").get(i).asDouble(), b.get("logprobs").get(i).asDouble(), 1e-4, "logprob " + i);
    }
    ScoreGenerateTest.Result half = generate("--dtype", "float16");
    assertEquals(0, half.status(), half.err());
    assertEquals(a.get("tokens").get(0), half.json().get("tokens").get(0), "float16 on the tensor backend, first token");
  }

  @Test
  void cudaWithoutAGpuSaysWhatDjlFound() {
    int gpus = Engine.getInstance().getGpuCount();
    ScoreGenerateTest.Result r = generate("--device", "cuda:" + gpus);
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("sees " + gpus + " GPU(s)") && r.err().contains("natives"), r.err());
    assertTrue(r.err().contains("--device cuda:" + gpus), r.err());
  }

  @Test
  void badValuesAreRefusedWithTheReason() {
    ScoreGenerateTest.Result bf16 = generate("--dtype", "bfloat16");
    assertNotEquals(0, bf16.status());
    assertTrue(bf16.err().contains("no bfloat16"), bf16.err());
    ScoreGenerateTest.Result javaHalf = generate("--backend", "java", "--dtype", "float16");
    assertNotEquals(0, javaHalf.status());
    assertTrue(javaHalf.err().contains("--backend java runs float32 weights on the CPU only"), javaHalf.err());
    ScoreGenerateTest.Result unknown = generate("--backend", "vllm");
    assertTrue(unknown.err().contains("unknown backend 'vllm'"), unknown.err());
    ScoreGenerateTest.Result device = generate("--device", "tpu");
    assertTrue(device.err().contains("expected cpu, cuda or cuda:N"), device.err());
    Path dir = ScoreGenerateTest.model("tiny-qwen2");
    ScoreGenerateTest.Result score = ScoreGenerateTest.run("score", "--model", dir.toString(), "--tokens", "1,2,3",
        "--backend", "tensor");
    assertNotEquals(0, score.status());
    assertTrue(score.err().contains("score runs the model's own forward"), score.err());
  }
}
