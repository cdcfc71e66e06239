package dev.art4j.rollout.engine;

import dev.art4j.core.model.Lora;

/**
 * The per-step model computation behind {@link InferenceEngine}'s scheduler: the scheduler
 * decides which rows run (continuous batching, prefix sharing, KV block tables), a backend runs
 * them and samples. Two backends: {@link JavaCompute} (the engine's own fp32 CPU kernels) and
 * {@link TensorDecoder} (DJL NDArrays on the policy's device and dtype).
 */
interface StepCompute extends AutoCloseable {

  /** The block bookkeeping this backend's cache goes with, {@code capacityBlocks} blocks. */
  KvPool newKvPool(int capacityBlocks);

  /** A fresh block (of {@code kv}) holding a copy of block {@code id}'s first {@code slots} positions. */
  int copyPrefix(KvPool kv, int id, int slots);

  /** A frozen copy of {@code lora}'s weights in the form this backend reads them. */
  AdapterSnapshot snapshot(Lora lora, long version);

  /**
   * One forward over {@code n} rows, then one sampled token per output row.
   *
   * @param token   (n) input id per row
   * @param pos     (n) position per row; rows of one sequence are consecutive positions
   * @param blocks  per row, the block table of its sequence (covering its position)
   * @param adapter per row, its adapter snapshot or null
   * @param outRows rows whose next token is sampled, {@code nOut} of them, for {@code outSeq}
   * @param sampled (nOut) the sampled ids, written here
   * @param logprob (nOut) their log-probs (the {@link Sampler}'s convention), written here
   * @param topIds  (nOut) per output row, receives its most likely ids (the array's length is how
   *                many the request asked for, often 0)
   * @param topLps  (nOut) their log-probs
   */
  void step(int n, int[] token, int[] pos, int[][] blocks, AdapterSnapshot[] adapter, KvPool kv,
      int[] outRows, Sequence[] outSeq, int nOut, int[] sampled, float[] logprob, int[][] topIds, float[][] topLps);

  /** Time per kind of operation. */
  Profile profile();

  /** Bytes the KV cache holds now. */
  long cacheBytes(KvPool kv);

  @Override
  void close();
}
