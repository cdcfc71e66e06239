package dev.art4j.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json}, run by DJL's binding of the Rust
 * {@code tokenizers} library), with the special tokens a generation loop needs:
 * eos ids from {@code generation_config.json} ({@code eos_token_id}, int or list), then
 * {@code tokenizer_config.json} ({@code eos_token}), then {@code config.json}; the pad id from
 * {@code tokenizer_config.json}'s {@code pad_token}, else {@code generation_config.json}'s
 * {@code pad_token_id}, else the first eos id.
 *
 * <p>{@link #encode} adds no special tokens of its own (a chat template already wrote them) but
 * recognises special-token strings such as {@code <|im_start|>} in the text. Thread-safe.
 */
public final class Tokenizer implements AutoCloseable {

  static {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> vocab;
  private final String[] tokens;
  private final Set<Integer> specialIds;
  private final List<Integer> eosTokenIds;
  private final int padTokenId;
  private final Integer bosTokenId;
  /** Whether the decoder maps vocabulary characters to bytes as GPT-2's byte-level BPE does. */
  private final boolean byteLevel;
  /** Ids of added tokens (their content is literal text, not byte-level spelling). */
  private final Set<Integer> addedIds;

  private Tokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> vocab, Set<Integer> specialIds,
      List<Integer> eosTokenIds, int padTokenId, Integer bosTokenId, boolean byteLevel, Set<Integer> addedIds) {
    this.tokenizer = tokenizer;
    this.byteLevel = byteLevel;
    this.addedIds = Set.copyOf(addedIds);
    this.vocab = vocab;
    int size = 0;
    for (int id : vocab.values()) {
      size = Math.max(size, id + 1);
    }
    this.tokens = new String[size];
    vocab.forEach((t, id) -> tokens[id] = t);
    this.specialIds = Collections.unmodifiableSet(specialIds);
    this.eosTokenIds = List.copyOf(eosTokenIds);
    this.padTokenId = padTokenId;
    this.bosTokenId = bosTokenId;
  }

  /** Whether {@code dir} holds a {@code tokenizer.json}. */
  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve("tokenizer.json"));
  }

  /** Loads the tokenizer files of a checkpoint directory. */
  public static Tokenizer load(Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "tokenizer not found");
    }
    JsonNode spec = readJson(file);
    Map<String, Integer> vocab = new HashMap<>();
    JsonNode model = spec.path("model").path("vocab");
    if (!model.isObject()) {
      throw new IllegalArgumentException(file + ": field model.vocab must be an object (BPE/WordPiece vocabulary)");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = model.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      vocab.put(e.getKey(), e.getValue().asInt());
    }
    Set<Integer> special = new LinkedHashSet<>();
    Set<Integer> added = new LinkedHashSet<>();
    int index = 0;
    for (JsonNode t : spec.path("added_tokens")) {
      if (!t.path("content").isTextual() || !t.path("id").isIntegralNumber() || t.get("id").asInt() < 0) {
        throw new IllegalArgumentException(file + ": added_tokens[" + index + "] needs a string content and an id >= 0, got "
            + abbreviate(t.toString()));
      }
      index++;
      vocab.put(t.get("content").asText(), t.get("id").asInt());
      added.add(t.get("id").asInt());
      if (t.path("special").asBoolean(false)) {
        special.add(t.get("id").asInt());
      }
    }

    JsonNode tokConfig = optionalJson(dir.resolve("tokenizer_config.json"));
    JsonNode genConfig = optionalJson(dir.resolve("generation_config.json"));
    JsonNode modelConfig = optionalJson(dir.resolve("config.json"));

    LinkedHashSet<Integer> eos = new LinkedHashSet<>(ids(genConfig, "eos_token_id"));
    Integer eosFromTokenizer = tokenId(tokConfig, "eos_token", vocab, dir);
    if (eosFromTokenizer != null) {
      eos.add(eosFromTokenizer);
    }
    if (eos.isEmpty()) {
      eos.addAll(ids(modelConfig, "eos_token_id"));
    }
    Integer pad = tokenId(tokConfig, "pad_token", vocab, dir);
    if (pad == null && genConfig != null && genConfig.hasNonNull("pad_token_id")) {
      pad = genConfig.get("pad_token_id").asInt();
    }
    if (pad == null) {
      pad = eos.isEmpty() ? -1 : eos.iterator().next();
    }
    Integer bos = tokenId(tokConfig, "bos_token", vocab, dir);
    if (bos == null && genConfig != null && genConfig.hasNonNull("bos_token_id")) {
      bos = genConfig.get("bos_token_id").asInt();
    }

    Map<String, String> options = new HashMap<>();
    options.put("addSpecialTokens", "false");
    options.put("truncation", "false");
    options.put("padding", "false");
    options.put("maxLength", "-1");
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(file, options);
    } catch (RuntimeException e) {
      // the Rust library's own reading of the file: the message says which field it choked on
      throw new IllegalArgumentException(file + ": not a tokenizer the tokenizers library can load: "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
    }
    return new Tokenizer(hf, vocab, special, new ArrayList<>(eos), pad, bos, ByteLevel.isDecoder(spec.path("decoder")), added);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static JsonNode readJson(Path file) throws IOException {
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException(file + ": expected a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static JsonNode optionalJson(Path file) throws IOException {
    return Files.isRegularFile(file) ? readJson(file) : null;
  }

  private static List<Integer> ids(JsonNode config, String field) {
    List<Integer> out = new ArrayList<>();
    if (config == null || !config.hasNonNull(field)) {
      return out;
    }
    JsonNode v = config.get(field);
    if (v.isArray()) {
      v.forEach(e -> out.add(e.asInt()));
    } else {
      out.add(v.asInt());
    }
    return out;
  }

  /** A special token named in tokenizer_config.json, as a string or {"content": ...}. */
  private static Integer tokenId(JsonNode config, String field, Map<String, Integer> vocab, Path dir) {
    if (config == null || !config.hasNonNull(field)) {
      return null;
    }
    JsonNode v = config.get(field);
    String text = v.isObject() ? v.path("content").asText() : v.asText();
    Integer id = vocab.get(text);
    if (id == null) {
      throw new IllegalArgumentException(dir.resolve("tokenizer_config.json") + ": " + field + " \"" + text
          + "\" is not in tokenizer.json's vocabulary");
    }
    return id;
  }

  /** Token ids of {@code text}; no special tokens are added, special-token strings are recognised. */
  public int[] encode(String text) {
    Encoding encoding = tokenizer.encode(text, false, false);
    long[] ids = encoding.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of {@code ids}, special tokens included. */
  public String decode(int[] ids) {
    return decode(ids, false);
  }

  /** Text of {@code ids}, optionally without special tokens. */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      longs[i] = ids[i];
    }
    return tokenizer.decode(longs, skipSpecialTokens);
  }

  /** The id of a token as written in the vocabulary (e.g. {@code <|im_end|>}), or -1. */
  public int tokenToId(String token) {
    Integer id = vocab.get(token);
    return id == null ? -1 : id;
  }

  /** The vocabulary entry of an id (byte-level BPE spelling, e.g. {@code Ġworld}), or null. */
  public String idToToken(int id) {
    return id >= 0 && id < tokens.length ? tokens[id] : null;
  }

  /** Whether {@link #tokenBytes} knows each token's bytes: a byte-level BPE tokenizer (Qwen, Llama 3, GPT-2). */
  public boolean byteLevel() {
    return byteLevel;
  }

  /**
   * The bytes an id stands for in decoded text (UTF-8; a byte-level BPE token may hold part of a
   * character), or null for a special token or an id outside the vocabulary. Constrained decoding
   * reads the vocabulary so.
   *
   * @throws UnsupportedOperationException if the tokenizer's decoder is not byte-level BPE
   *     (GPT-2, Qwen, Llama 3 style), whose vocabulary spells bytes one character each
   */
  public byte[] tokenBytes(int id) {
    if (!byteLevel) {
      throw new UnsupportedOperationException("the bytes of a token are known only for byte-level BPE tokenizers "
          + "(tokenizer.json decoder type ByteLevel); this one's decoder is not");
    }
    String token = idToToken(id);
    if (token == null || specialIds.contains(id)) {
      return null;
    }
    return addedIds.contains(id) ? token.getBytes(java.nio.charset.StandardCharsets.UTF_8) : ByteLevel.bytes(token);
  }

  /** End-of-sequence ids: generation stops at any of them. */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  /** The padding id (the first eos id when the checkpoint names no pad token; -1 if neither). */
  public int padTokenId() {
    return padTokenId;
  }

  /** The beginning-of-sequence id, or null (Qwen has none). */
  public Integer bosTokenId() {
    return bosTokenId;
  }

  /** Ids of the added tokens marked special. */
  public Set<Integer> specialTokenIds() {
    return specialIds;
  }

  /** Number of ids the tokenizer can produce (largest id + 1; a model's vocab may be padded larger). */
  public int vocabSize() {
    return tokens.length;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
