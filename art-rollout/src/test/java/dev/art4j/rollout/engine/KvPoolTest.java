package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The KV pool's slab layout: disjoint blocks, lazy slabs, recycling, copies across slabs. */
class KvPoolTest {

  private static final int LAYERS = 2;
  private static final int KV_HEADS = 2;
  private static final int HEAD_DIM = 4;
  private static final long BLOCK_BYTES = (long) LAYERS * 2 * KV_HEADS * KvPool.BLOCK * HEAD_DIM * Float.BYTES;

  /** 3 blocks per slab, 8 blocks in all: slabs of 3, 3 and 2. */
  private static KvPool small() {
    return new KvPool(LAYERS, KV_HEADS, HEAD_DIM, 8, 3 * BLOCK_BYTES);
  }

  private static float tag(int id, int layer, int kv, int head, int slot, int d) {
    return ((((id * LAYERS + layer) * 2 + kv) * KV_HEADS + head) * KvPool.BLOCK + slot) * HEAD_DIM + d + 1;
  }

  @Test
  void everyPositionOfEveryBlockHasItsOwnPlace() {
    KvPool kv = small();
    int[] ids = new int[8];
    for (int i = 0; i < 8; i++) {
      ids[i] = kv.allocate();
    }
    assertThrows(IllegalStateException.class, kv::allocate);
    assertEquals(3, kv.slabCount());
    assertEquals(8 * BLOCK_BYTES, kv.bytes(), "the last slab holds only the blocks left in the budget");
    forEachFloat((id, l, k, h, s, d) -> kv.block(ids[id])[kv.index(ids[id], l, k, h, s, d)] = tag(id, l, k, h, s, d));
    forEachFloat((id, l, k, h, s, d) ->
        assertEquals(tag(id, l, k, h, s, d), kv.block(ids[id])[kv.index(ids[id], l, k, h, s, d)],
            "block " + id + " layer " + l + " kv " + k + " head " + h + " slot " + s + " dim " + d));
    assertSame(kv.block(ids[0]), kv.block(ids[2]));
    assertTrue(kv.block(ids[2]) != kv.block(ids[3]), "block 3 starts the second slab");
  }

  @Test
  void slabsAreCarvedOnFirstUseAndBlocksRecycled() {
    KvPool kv = small();
    int a = kv.allocate();
    int b = kv.allocate();
    assertEquals(1, kv.slabCount());
    assertEquals(3 * BLOCK_BYTES, kv.bytes());
    kv.retain(a);
    kv.release(a);
    assertEquals(2, kv.inUse(), "a block with a reference left stays in use");
    kv.release(a);
    kv.release(b);
    assertEquals(0, kv.inUse());
    for (int i = 0; i < 3; i++) {
      kv.allocate();
    }
    assertEquals(3, kv.allocated(), "freed blocks are reused before new ones are carved");
    assertEquals(1, kv.slabCount());
    kv.allocate();
    assertEquals(2, kv.slabCount());
  }

  @Test
  void copyPrefixCopiesTheFirstSlotsIntoAnotherSlab() {
    KvPool kv = small();
    int src = kv.allocate();
    kv.allocate();
    kv.allocate();
    forEachFloat(1, (id, l, k, h, s, d) -> kv.block(src)[kv.index(src, l, k, h, s, d)] = tag(src, l, k, h, s, d));
    int copy = kv.copyPrefix(src, 5);
    assertTrue(kv.block(copy) != kv.block(src), "the copy lies in the second slab");
    forEachFloat(1, (id, l, k, h, s, d) -> assertEquals(s < 5 ? tag(src, l, k, h, s, d) : 0f,
        kv.block(copy)[kv.index(copy, l, k, h, s, d)], "layer " + l + " kv " + k + " head " + h + " slot " + s));
  }

  @Test
  void defaultSlabsAreLargeEnoughToStayOutOfTheYoungGeneration() {
    // the math starter's shape: 4 layers, 2 KV heads of 32, a 32768-position budget
    KvPool kv = new KvPool(4, 2, 32, KvPool.blocksFor(32_768));
    kv.allocate();
    assertTrue(kv.bytes() >= KvPool.SLAB_BYTES, "one slab of " + kv.bytes() + " bytes");
    assertEquals(kv.slabBlocks() * kv.bytesPerPosition() * KvPool.BLOCK, kv.bytes());
    KvPool tiny = new KvPool(4, 2, 32, 4);
    tiny.allocate();
    assertEquals(4 * KvPool.BLOCK * tiny.bytesPerPosition(), tiny.bytes(), "a budget under one slab is one slab");
  }

  interface Visit {
    void at(int id, int layer, int kv, int head, int slot, int d);
  }

  private static void forEachFloat(Visit v) {
    forEachFloat(8, v);
  }

  private static void forEachFloat(int blocks, Visit v) {
    for (int id = 0; id < blocks; id++) {
      for (int l = 0; l < LAYERS; l++) {
        for (int k = 0; k < 2; k++) {
          for (int h = 0; h < KV_HEADS; h++) {
            for (int s = 0; s < KvPool.BLOCK; s++) {
              for (int d = 0; d < HEAD_DIM; d++) {
                v.at(id, l, k, h, s, d);
              }
            }
          }
        }
      }
    }
  }
}
