package dev.art4j.examples.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a small byte-level BPE vocabulary (GPT-2 / Qwen style) and writes it as a Hugging Face
 * {@code tokenizer.json} that the Rust {@code tokenizers} library loads.
 *
 * <p>The vocabulary is the 256 byte symbols (ids 0-255, id = byte value), then one token per
 * merge, then the added tokens. Merges are learned the usual way (repeatedly merge the most
 * frequent adjacent pair, ties broken by the pair's text so the result is reproducible) on the
 * pre-tokens of a corpus, until every pre-token that has no digit is a single token. Digits are
 * never merged, so every number is spelled one digit per token, which a tiny model copies far more
 * easily than multi-digit tokens. Encoding replays the merges in rank order, which reproduces the
 * training segmentation, so every word of the corpus is exactly one token.
 */
final class ByteLevelBpe {

  /** GPT-2's pre-tokenizer split, as {@code tokenizers}' {@code ByteLevel(use_regex=true)} applies it. */
  static final Pattern PRE_TOKENIZER = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  /** Byte value to the printable character that stands for it (GPT-2's {@code bytes_to_unicode}). */
  static final char[] BYTE_TO_CHAR = byteToChar();

  private final List<String> merges;
  private final Map<String, Integer> vocab;

  private ByteLevelBpe(List<String> merges, Map<String, Integer> vocab) {
    this.merges = merges;
    this.vocab = vocab;
  }

  /**
   * Learns merges on {@code corpus} (texts with added tokens already removed or not: the added
   * tokens are cut out first, as the tokenizer does).
   *
   * @param corpus      texts whose digit-free pre-tokens must each become one token
   * @param addedTokens special strings that are never split (ChatML markup); excluded from learning
   */
  static ByteLevelBpe learn(Collection<String> corpus, List<String> addedTokens) {
    Map<String, Integer> counts = new TreeMap<>();
    Pattern added = addedTokens.isEmpty() ? null
        : Pattern.compile(String.join("|", addedTokens.stream().map(Pattern::quote).toList()));
    for (String text : corpus) {
      for (String piece : added == null ? new String[] {text} : added.split(text)) {
        Matcher m = PRE_TOKENIZER.matcher(piece);
        while (m.find()) {
          String pre = m.group();
          if (pre.chars().noneMatch(Character::isDigit)) {
            counts.merge(toSymbols(pre), 1, Integer::sum);
          }
        }
      }
    }
    // each word as its list of symbols; learn until every word is one symbol
    List<List<String>> words = new ArrayList<>();
    List<Integer> freq = new ArrayList<>();
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      List<String> symbols = new ArrayList<>();
      e.getKey().codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
      words.add(symbols);
      freq.add(e.getValue());
    }
    List<String> merges = new ArrayList<>();
    while (true) {
      Map<String, Integer> pairs = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          pairs.merge(s.get(i) + " " + s.get(i + 1), freq.get(w), Integer::sum);
        }
      }
      if (pairs.isEmpty()) {
        break;
      }
      String best = null;
      int bestCount = -1;
      for (Map.Entry<String, Integer> p : pairs.entrySet()) {
        if (p.getValue() > bestCount || (p.getValue() == bestCount && p.getKey().compareTo(best) < 0)) {
          best = p.getKey();
          bestCount = p.getValue();
        }
      }
      merges.add(best);
      String left = best.substring(0, best.indexOf(' '));
      String right = best.substring(best.indexOf(' ') + 1);
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(left) && s.get(i + 1).equals(right)) {
            s.set(i, left + right);
            s.remove(i + 1);
          }
        }
      }
    }
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(BYTE_TO_CHAR[b]), b);
    }
    for (String m : merges) {
      vocab.putIfAbsent(m.replace(" ", ""), vocab.size());
    }
    return new ByteLevelBpe(List.copyOf(merges), vocab);
  }

  /** Tokens before the added ones. */
  int baseVocabSize() {
    return vocab.size();
  }

  List<String> merges() {
    return merges;
  }

  /**
   * The {@code tokenizer.json}: BPE model, ByteLevel pre-tokenizer and decoder, and the added
   * tokens with ids after the learned vocabulary, in the order given.
   *
   * @param special for each added token, whether it is special (skipped when decoding with
   *                {@code skip_special_tokens}); Qwen marks {@code <tool_call>} not special so
   *                decoded text keeps it
   */
  ObjectNode tokenizerJson(ObjectMapper json, LinkedHashMap<String, Boolean> special) {
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    int id = vocab.size();
    for (Map.Entry<String, Boolean> t : special.entrySet()) {
      added.addObject().put("id", id++).put("content", t.getKey()).put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", t.getValue());
    }
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel(json));
    root.putNull("post_processor");
    root.set("decoder", byteLevel(json));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode v = model.putObject("vocab");
    vocab.forEach(v::put);
    ArrayNode m = model.putArray("merges");
    merges.forEach(m::add);
    return root;
  }

  private static ObjectNode byteLevel(ObjectMapper json) {
    return json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", false).put("use_regex", true);
  }

  /** A pre-token's UTF-8 bytes as byte symbols. */
  static String toSymbols(String text) {
    StringBuilder sb = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      sb.append(BYTE_TO_CHAR[b & 0xff]);
    }
    return sb.toString();
  }

  private static char[] byteToChar() {
    char[] map = new char[256];
    boolean[] printable = new boolean[256];
    for (int b = '!'; b <= '~'; b++) {
      printable[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      printable[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      printable[b] = true;
    }
    int next = 0;
    for (int b = 0; b < 256; b++) {
      map[b] = printable[b] ? (char) b : (char) (256 + next++);
    }
    return map;
  }
}
