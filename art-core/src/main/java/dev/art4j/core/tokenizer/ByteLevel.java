package dev.art4j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * GPT-2's byte-level alphabet: each of the 256 bytes is written as one printable character
 * (printable Latin-1 bytes as themselves, the others as U+0100 onwards in byte order), so a
 * vocabulary entry such as {@code Ġworld} spells the bytes {@code " world"}.
 */
final class ByteLevel {

  private static final int[] BYTE_OF = new int[512];

  static {
    java.util.Arrays.fill(BYTE_OF, -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      BYTE_OF[printable ? b : next++] = b;
    }
  }

  private ByteLevel() {}

  /** Whether a tokenizer.json {@code decoder} is byte-level (alone or inside a Sequence). */
  static boolean isDecoder(JsonNode decoder) {
    if ("ByteLevel".equals(decoder.path("type").asText())) {
      return true;
    }
    for (JsonNode d : decoder.path("decoders")) {
      if (isDecoder(d)) {
        return true;
      }
    }
    return false;
  }

  /** The bytes a vocabulary entry spells; a character outside the alphabet is taken as its UTF-8. */
  static byte[] bytes(String token) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      int b = c < BYTE_OF.length ? BYTE_OF[c] : -1;
      if (b >= 0) {
        out.write(b);
      } else {
        out.writeBytes(String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }
}
