package dev.art4j.rollout.constrain;

import dev.art4j.core.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A tokenizer's vocabulary as constrained decoding walks it: each id's bytes
 * ({@link Tokenizer#tokenBytes}; special tokens have none and are never allowed inside the
 * constrained text) in a trie, so that finding the ids a state allows visits each shared prefix
 * once and skips every token under a prefix the automaton rejects, instead of testing 150k
 * tokens one by one. Inside free text (a string's content, an unlisted key) most of the
 * vocabulary is allowed whatever follows; those ids are a precomputed set, and only the rest (ids
 * with a quote, a backslash or a control byte) are walked. Built once per tokenizer ({@link #of});
 * immutable and thread-safe.
 */
public final class TokenVocabulary {

  private static final Map<Tokenizer, TokenVocabulary> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

  private final byte[][] bytes;
  private final Trie all;
  /** The ids that are free text ({@link JsonMachine#isFreeText}), as a bitset. */
  private final long[] freeText;
  /** The other ids. */
  private final Trie notFreeText;

  private TokenVocabulary(byte[][] bytes) {
    this.bytes = bytes;
    boolean[] free = new boolean[bytes.length];
    boolean[] usable = new boolean[bytes.length];
    boolean[] rest = new boolean[bytes.length];
    this.freeText = new long[(bytes.length + 63) / 64];
    for (int id = 0; id < bytes.length; id++) {
      usable[id] = bytes[id] != null && bytes[id].length > 0;
      free[id] = usable[id] && JsonMachine.isFreeText(bytes[id]);
      rest[id] = usable[id] && !free[id];
      if (free[id]) {
        freeText[id >>> 6] |= 1L << id;
      }
    }
    this.all = new Trie(bytes, usable);
    this.notFreeText = new Trie(bytes, rest);
  }

  /**
   * The vocabulary of {@code tokenizer}, built on first use and kept while the tokenizer lives.
   *
   * @throws UnsupportedOperationException if the tokenizer is not byte-level BPE
   */
  public static TokenVocabulary of(Tokenizer tokenizer) {
    TokenVocabulary v = CACHE.get(tokenizer);
    if (v == null) {
      byte[][] bytes = new byte[tokenizer.vocabSize()][];
      for (int id = 0; id < bytes.length; id++) {
        bytes[id] = tokenizer.tokenBytes(id);
      }
      v = new TokenVocabulary(bytes);
      CACHE.put(tokenizer, v);
    }
    return v;
  }

  /** Ids the tokenizer knows (a model's vocabulary may be padded larger). */
  public int size() {
    return bytes.length;
  }

  /** Nodes of the whole vocabulary's trie (the root included). */
  int nodes() {
    return all.first.length;
  }

  /** The bytes of {@code id}, or null (special, or past the vocabulary). */
  byte[] bytes(int id) {
    return id >= 0 && id < bytes.length ? bytes[id] : null;
  }

  /** Sets {@code allowed[id]} for each id whose bytes the machine accepts from {@code states}. */
  void allow(JsonMachine.Stack[] states, boolean[] allowed) {
    if (!JsonMachine.inFreeText(states)) {
      all.walk(0, states, allowed);
      return;
    }
    int limit = Math.min(allowed.length, bytes.length);
    for (int w = 0; w < freeText.length; w++) {
      for (long word = freeText[w]; word != 0; word &= word - 1) {
        int id = (w << 6) + Long.numberOfTrailingZeros(word);
        if (id < limit) {
          allowed[id] = true;
        }
      }
    }
    notFreeText.walk(0, states, allowed);
  }

  /** A trie over some ids' bytes; node 0 the root, children a first-child / next-sibling list in byte order. */
  private static final class Trie {
    final int[] first;
    final int[] next;
    final byte[] label;
    /** The id whose bytes end at a node, or -1; more ids with the same bytes in {@link #alsoAt}. */
    final int[] tokenAt;
    final Map<Integer, int[]> alsoAt;

    Trie(byte[][] bytes, boolean[] include) {
      int n = 0;
      Integer[] order = new Integer[bytes.length];
      for (int id = 0; id < bytes.length; id++) {
        if (include[id]) {
          order[n++] = id;
        }
      }
      Integer[] ids = Arrays.copyOf(order, n);
      Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
      int capacity = 1;
      for (int id : ids) {
        capacity += bytes[id].length;
      }
      int[] first = new int[capacity];
      int[] next = new int[capacity];
      int[] last = new int[capacity];
      byte[] label = new byte[capacity];
      int[] tokenAt = new int[capacity];
      Arrays.fill(first, -1);
      Arrays.fill(next, -1);
      Arrays.fill(last, -1);
      Arrays.fill(tokenAt, -1);
      Map<Integer, int[]> also = new java.util.HashMap<>();
      int nodes = 1;
      int[] path = new int[1];
      byte[] previous = new byte[0];
      for (int id : ids) {
        byte[] b = bytes[id];
        if (path.length < b.length + 1) {
          path = Arrays.copyOf(path, b.length + 1);
        }
        int common = Arrays.mismatch(previous, b);
        if (common < 0) {
          common = b.length; // same bytes as the previous id
        }
        for (int d = common; d < b.length; d++) {
          int parent = path[d];
          int node = nodes++;
          label[node] = b[d];
          if (last[parent] < 0) {
            first[parent] = node;
          } else {
            next[last[parent]] = node;
          }
          last[parent] = node;
          path[d + 1] = node;
        }
        int end = path[b.length];
        if (tokenAt[end] < 0) {
          tokenAt[end] = id;
        } else {
          int[] more = also.getOrDefault(end, new int[0]);
          more = Arrays.copyOf(more, more.length + 1);
          more[more.length - 1] = id;
          also.put(end, more);
        }
        previous = b;
      }
      this.first = Arrays.copyOf(first, nodes);
      this.next = Arrays.copyOf(next, nodes);
      this.label = Arrays.copyOf(label, nodes);
      this.tokenAt = Arrays.copyOf(tokenAt, nodes);
      this.alsoAt = Map.copyOf(also);
    }

    void walk(int node, JsonMachine.Stack[] states, boolean[] allowed) {
      for (int c = first[node]; c >= 0; c = next[c]) {
        JsonMachine.Stack[] after = JsonMachine.step(states, label[c] & 0xff);
        if (after == null) {
          continue; // no token under this prefix can come next
        }
        int id = tokenAt[c];
        if (id >= 0) {
          if (id < allowed.length) {
            allowed[id] = true;
          }
          int[] more = alsoAt.get(c);
          if (more != null) {
            for (int m : more) {
              if (m < allowed.length) {
                allowed[m] = true;
              }
            }
          }
        }
        if (first[c] >= 0) {
          walk(c, after, allowed);
        }
      }
    }
  }
}
