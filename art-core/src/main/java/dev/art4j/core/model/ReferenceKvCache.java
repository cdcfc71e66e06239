package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The reference decoder's cache: what the tests use to check the inference engine (art-rollout's
 * {@code InferenceEngine}, which samples every rollout, {@code art4j generate} included, through
 * its own paged cache) against a plain {@link Transformer#forward}. Nothing in the library decodes
 * with it.
 *
 * <p>Keys and values of every layer for the positions a {@link Transformer} has already seen, so a
 * decode step only computes the new tokens. Per layer the storage is {@code (B, Hkv, capacity,
 * hd)}; {@link Transformer#forward} writes the new keys/values at {@code [length, length + T)}
 * in place and then advances {@link #length()}. Capacity doubles when it runs out.
 *
 * <p>Entries are indexed by slot, not by position id: slot {@code j} of every sequence in the
 * batch is column {@code j} of the attention mask passed to {@code forward}. The cache owns its
 * arrays (a sub-manager of the one given); {@link #close()} frees them.
 */
public final class ReferenceKvCache implements AutoCloseable {

  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private int capacity;
  private int length;
  private long batch = -1;

  private ReferenceKvCache(int layers, int capacity, NDManager parent) {
    this.manager = parent.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
    this.capacity = Math.max(1, capacity);
  }

  /** An empty cache for {@code config}, on {@code manager}'s device, that grows as needed. */
  public static ReferenceKvCache create(ModelConfig config, NDManager manager) {
    return new ReferenceKvCache(config.numHiddenLayers(), 256, manager);
  }

  /** An empty cache with room for {@code capacity} slots before it has to grow. */
  public static ReferenceKvCache create(ModelConfig config, int capacity, NDManager manager) {
    return new ReferenceKvCache(config.numHiddenLayers(), capacity, manager);
  }

  /** Slots filled so far (P, the past length a forward call's attention mask must start with). */
  public int length() {
    return length;
  }

  /** Batch size, or -1 before the first forward. */
  public long batchSize() {
    return batch;
  }

  /**
   * Stores one layer's new keys and values (B, Hkv, T, hd) at {@code [length, length + T)} and
   * returns all of them so far (B, Hkv, length + T, hd), attached to {@code k}'s manager.
   */
  NDList append(int layer, NDArray k, NDArray v) {
    Shape shape = k.getShape();
    long b = shape.get(0);
    int t = Math.toIntExact(shape.get(2));
    if (batch < 0) {
      batch = b;
    } else if (b != batch) {
      throw new IllegalArgumentException("batch size " + b + " differs from the cache's " + batch);
    }
    int end = length + t;
    if (keys[layer] == null || end > capacity(layer)) {
      int newCapacity = Math.max(end, Math.max(capacity, 2 * capacity(layer)));
      keys[layer] = grow(keys[layer], shape, newCapacity, k);
      values[layer] = grow(values[layer], shape, newCapacity, v);
      capacity = Math.max(capacity, newCapacity);
    }
    NDIndex slot = new NDIndex(":, :, {}:{}", length, end);
    keys[layer].set(slot, k);
    values[layer].set(slot, v);
    NDIndex filled = new NDIndex(":, :, :{}", end);
    NDArray kAll = keys[layer].get(filled);
    NDArray vAll = values[layer].get(filled);
    // get() results belong to the storage's manager: hand them to the step's scope
    kAll.attach(k.getManager());
    vAll.attach(k.getManager());
    return new NDList(kAll, vAll);
  }

  private int capacity(int layer) {
    return keys[layer] == null ? 0 : Math.toIntExact(keys[layer].getShape().get(2));
  }

  private NDArray grow(NDArray old, Shape shape, int newCapacity, NDArray like) {
    NDArray fresh = manager.zeros(new Shape(shape.get(0), shape.get(1), newCapacity, shape.get(3)),
        like.getDataType());
    NDScope.unregister(fresh); // the cache outlives the forward's per-layer scope
    if (old != null) {
      if (length > 0) {
        NDIndex filled = new NDIndex(":, :, :{}", length);
        NDArray past = old.get(filled);
        fresh.set(filled, past);
        past.close();
      }
      old.close();
    }
    return fresh;
  }

  /**
   * Rebuilds the batch from the given rows of this one, in order; a row may repeat. A group of
   * rollouts shares one prefill ({@code selectRows(0, 0, 0, 0)} after prefilling the prompt once)
   * and finished sequences leave a running batch ({@code selectRows(0, 2, 3)}).
   */
  public void selectRows(long... rows) {
    if (rows.length == 0) {
      throw new IllegalArgumentException("selectRows needs at least one row");
    }
    for (long r : rows) {
      if (r < 0 || r >= batch) {
        throw new IllegalArgumentException("row " + r + " is outside the cache's batch of " + batch);
      }
    }
    try (NDManager scratch = manager.newSubManager()) {
      NDArray index = scratch.create(rows);
      for (int l = 0; l < keys.length; l++) {
        if (keys[l] != null) {
          keys[l] = replace(keys[l], keys[l].get(index));
          values[l] = replace(values[l], values[l].get(index));
        }
      }
    }
    batch = rows.length;
  }

  private NDArray replace(NDArray old, NDArray fresh) {
    fresh.attach(manager);
    old.close();
    return fresh;
  }

  /** Marks {@code t} more slots filled; called once per forward, after every layer appended. */
  void advance(int t) {
    length += t;
  }

  @Override
  public void close() {
    manager.close();
  }
}
