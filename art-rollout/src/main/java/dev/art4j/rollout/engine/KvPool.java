package dev.art4j.rollout.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The key/value cache, in blocks of {@link #BLOCK} positions (paged, as in vLLM). A block holds
 * the keys and values of all layers for its positions, laid out
 * {@code [layer][k|v][kvHead][slot][headDim]}. A sequence owns a list of blocks; sequences that
 * share a prompt share its full blocks (reference-counted), so a group's prompt is stored once.
 *
 * <p>At most {@code capacity} blocks ever exist: blocks are allocated on first use and recycled
 * through a free list, so memory stays flat over any number of requests.
 */
final class KvPool {

  /** Positions per block. */
  static final int BLOCK = 16;

  private final int kvHeads;
  private final int headDim;
  private final int capacity;
  private final int blockFloats;
  private final List<float[]> blocks = new ArrayList<>();
  private final List<Integer> refs = new ArrayList<>();
  private final ArrayDeque<Integer> free = new ArrayDeque<>();
  private int inUse;

  KvPool(int layers, int kvHeads, int headDim, int capacityBlocks) {
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.capacity = capacityBlocks;
    this.blockFloats = layers * 2 * kvHeads * BLOCK * headDim;
  }

  static int blocksFor(int positions) {
    return (positions + BLOCK - 1) / BLOCK;
  }

  int capacity() {
    return capacity;
  }

  /** Blocks ever allocated (in use or free for reuse). */
  int allocated() {
    return blocks.size();
  }

  int inUse() {
    return inUse;
  }

  /** Bytes per cached position (all layers, keys and values). */
  long bytesPerPosition() {
    return (long) blockFloats / BLOCK * Float.BYTES;
  }

  float[] block(int id) {
    return blocks.get(id);
  }

  /** Offset of {@code (layer, kv, head, slot)} in a block; kv 0 = keys, 1 = values. */
  int offset(int layer, int kv, int head, int slot) {
    return (((layer * 2 + kv) * kvHeads + head) * BLOCK + slot) * headDim;
  }

  /** A fresh block with one reference; the caller checked the budget. */
  int allocate() {
    if (inUse >= capacity) {
      throw new IllegalStateException("KV cache exhausted: " + capacity + " blocks in use");
    }
    inUse++;
    Integer id = free.poll();
    if (id == null) {
      blocks.add(new float[blockFloats]);
      refs.add(1);
      return blocks.size() - 1;
    }
    refs.set(id, 1);
    return id;
  }

  void retain(int id) {
    refs.set(id, refs.get(id) + 1);
  }

  void release(int id) {
    int r = refs.get(id) - 1;
    refs.set(id, r);
    if (r == 0) {
      inUse--;
      free.push(id);
    }
  }

  /** A new block holding a copy of {@code id}'s first {@code slots} positions. */
  int copyPrefix(int id, int slots) {
    int fresh = allocate();
    float[] src = blocks.get(id);
    float[] dst = blocks.get(fresh);
    for (int off = 0; off < blockFloats; off += BLOCK * headDim) {
      System.arraycopy(src, off, dst, off, slots * headDim);
    }
    return fresh;
  }
}
