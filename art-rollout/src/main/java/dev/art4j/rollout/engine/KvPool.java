package dev.art4j.rollout.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The key/value cache, in blocks of {@link #BLOCK} positions (paged, as in vLLM). A block holds
 * the keys and values of all layers for its positions, in tiles of {@code BLOCK * headDim} floats
 * laid out {@code [layer][k|v][kvHead]}: a value tile is {@code [slot][headDim]}, a key tile is
 * transposed, {@code [headDim][slot]}, so that one vector load of a key tile holds component d of
 * {@code BLOCK} consecutive keys and the attention kernel scores a whole block per fused multiply-add
 * chain ({@link Kernels#attention}). A sequence owns a list of blocks; sequences that
 * share a prompt share its full blocks (reference-counted), so a group's prompt is stored once.
 *
 * <p>At most {@code capacity} blocks ever exist: blocks are carved on first use and recycled
 * through a free list, so memory stays flat over any number of requests.
 *
 * <p>Blocks live in slabs, float arrays of at least {@link #SLAB_BYTES} (or the whole budget when
 * smaller). The cache is the engine's only large long-lived allocation, and its blocks are held
 * for minutes by the prefix cache: stored as many small arrays, each block was born in the young
 * generation and copied out by the first collection after it, so the first young GC that came
 * after the cache had filled up moved all of it, tens to hundreds of MB, into heap regions never
 * touched before, a step in resident memory at an arbitrary time (and a long pause). A slab is a
 * G1 humongous object (over half of any region size up to 32 MB): allocated straight into the old
 * generation, zeroed, hence resident, at once, and never copied by a young collection.
 */
final class KvPool {

  /** Positions per block. */
  static final int BLOCK = 16;

  /** Smallest slab; G1 allocates arrays of half a region or more (regions are 1-32 MB) outside the young generation. */
  static final long SLAB_BYTES = 16L << 20;

  private final int kvHeads;
  private final int headDim;
  private final int capacity;
  private final int blockFloats;
  private final int slabBlocks;
  private final List<float[]> slabs = new ArrayList<>();
  private final int[] refs;
  private final int[] free; // a FIFO ring of recycled block ids: the longest-free block is reused first
  private int freeHead;
  private int freeCount;
  private int carved;
  private int inUse;
  private volatile long bytes;

  KvPool(int layers, int kvHeads, int headDim, int capacityBlocks) {
    this(layers, kvHeads, headDim, capacityBlocks, SLAB_BYTES);
  }

  /** A pool whose slabs hold at least {@code slabBytes} (tests use small slabs). */
  KvPool(int layers, int kvHeads, int headDim, int capacityBlocks, long slabBytes) {
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.capacity = capacityBlocks;
    long floats = (long) layers * 2 * kvHeads * BLOCK * headDim;
    if (floats > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("one KV block of " + floats + " floats does not fit a Java array");
    }
    this.blockFloats = (int) floats;
    if (floats == 0) { // block ids only (withoutStorage): one empty slab
      this.slabBlocks = Math.max(1, capacityBlocks);
    } else {
      long perSlab = Math.max(1, (slabBytes + floats * Float.BYTES - 1) / (floats * Float.BYTES));
      this.slabBlocks = (int) Math.min(Math.min(perSlab, capacityBlocks), (Integer.MAX_VALUE - 16) / floats);
    }
    this.refs = new int[capacityBlocks];
    this.free = new int[capacityBlocks];
  }

  /** Block ids and reference counts only: a backend that keeps the data elsewhere (a device). */
  static KvPool withoutStorage(int capacityBlocks) {
    return new KvPool(0, 0, 0, capacityBlocks);
  }

  static int blocksFor(int positions) {
    return (positions + BLOCK - 1) / BLOCK;
  }

  int capacity() {
    return capacity;
  }

  /** Blocks ever carved (in use or free for reuse). */
  int allocated() {
    return carved;
  }

  int inUse() {
    return inUse;
  }

  /** Bytes the slabs hold now (never given back while the engine runs); safe to read from any thread. */
  long bytes() {
    return bytes;
  }

  /** Bytes per cached position (all layers, keys and values). */
  long bytesPerPosition() {
    return (long) blockFloats / BLOCK * Float.BYTES;
  }

  /** The array holding block {@code id}; index it with {@link #offset}. */
  float[] block(int id) {
    return slabs.get(id / slabBlocks);
  }

  /** Offset in {@link #block} of block {@code id}'s {@code (layer, kv, head)} tile; kv 0 = keys, 1 = values. */
  int tile(int id, int layer, int kv, int head) {
    return (id % slabBlocks) * blockFloats + ((layer * 2 + kv) * kvHeads + head) * BLOCK * headDim;
  }

  /** Offset in {@link #block} of component {@code d} of the key (kv 0) or value (kv 1) at {@code slot}. */
  int index(int id, int layer, int kv, int head, int slot, int d) {
    return tile(id, layer, kv, head) + (kv == 0 ? d * BLOCK + slot : slot * headDim + d);
  }

  /** A fresh block with one reference; the caller checked the budget. */
  int allocate() {
    if (inUse >= capacity) {
      throw new IllegalStateException("KV cache exhausted: " + capacity + " blocks in use");
    }
    inUse++;
    int id;
    if (freeCount > 0) {
      id = free[freeHead];
      freeHead = (freeHead + 1) % free.length;
      freeCount--;
    } else {
      id = carved++;
      if (id % slabBlocks == 0) {
        float[] slab = new float[Math.min(slabBlocks, capacity - id) * blockFloats];
        slabs.add(slab);
        bytes += (long) slab.length * Float.BYTES;
      }
    }
    refs[id] = 1;
    return id;
  }

  void retain(int id) {
    refs[id]++;
  }

  void release(int id) {
    if (--refs[id] == 0) {
      inUse--;
      free[(freeHead + freeCount++) % free.length] = id;
    }
  }

  /** A new block holding a copy of {@code id}'s first {@code slots} positions. */
  int copyPrefix(int id, int slots) {
    int fresh = allocate();
    float[] src = block(id);
    float[] dst = block(fresh);
    int from = tile(id, 0, 0, 0);
    int to = tile(fresh, 0, 0, 0);
    int tileFloats = BLOCK * headDim;
    for (int off = 0; off < blockFloats; off += tileFloats) {
      if ((off / tileFloats / kvHeads) % 2 == 0) { // a key tile: the first slots of every component
        for (int d = 0; d < headDim; d++) {
          System.arraycopy(src, from + off + d * BLOCK, dst, to + off + d * BLOCK, slots);
        }
      } else {
        System.arraycopy(src, from + off, dst, to + off, slots * headDim);
      }
    }
    return fresh;
  }

  /** Slabs carved so far (tests). */
  int slabCount() {
    return slabs.size();
  }

  /** Blocks per slab (tests). */
  int slabBlocks() {
    return slabBlocks;
  }
}
