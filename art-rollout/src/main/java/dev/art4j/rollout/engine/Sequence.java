package dev.art4j.rollout.engine;

import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenConstraint;
import dev.art4j.rollout.completion.TokenListener;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/** One request inside the engine: its tokens so far, its KV blocks and its sampling state. */
final class Sequence {

  final int[] prompt;
  final SamplingParams params;
  final AdapterSnapshot adapter;
  final SplittableRandom rng;
  final CompletableFuture<Completion> future;
  final long submitNanos;
  /** Positions this request may ever hold in the cache: min(prompt + maxNewTokens, context). */
  final int maxPositions;

  int[] tokens;
  int length;
  /** Tokens whose keys/values are in the cache (positions 0..computed-1). */
  int computed;
  int[] blocks = new int[4];
  int blockCount;
  float[] logprobs = new float[16];
  int generated;
  long admitNanos;
  long firstTokenNanos;
  /** Told each sampled token, or null. */
  TokenListener listener;
  /** Where the request's constraint stands (advanced after each sampled text token), or null. */
  TokenConstraint.Matcher matcher;

  Sequence(int[] prompt, SamplingParams params, AdapterSnapshot adapter, SplittableRandom rng,
      CompletableFuture<Completion> future, int maxPositions) {
    this.prompt = prompt;
    this.params = params;
    this.adapter = adapter;
    this.rng = rng;
    this.future = future;
    this.maxPositions = maxPositions;
    this.submitNanos = System.nanoTime();
    this.tokens = Arrays.copyOf(prompt, prompt.length + Math.min(params.maxNewTokens(), 64));
    this.length = prompt.length;
    this.matcher = params.constraint() == null ? null : params.constraint().start();
  }

  /** Whether {@code token} ends this request: an end-of-sequence id (unless ignored) or a stop id. */
  boolean ends(int token, java.util.Set<Integer> eos) {
    return (!params.ignoreEos() && eos.contains(token)) || params.stopTokenIds().contains(token);
  }

  boolean prefilling() {
    return computed < prompt.length;
  }

  void addBlock(int id) {
    if (blockCount == blocks.length) {
      blocks = Arrays.copyOf(blocks, 2 * blockCount);
    }
    blocks[blockCount++] = id;
  }

  void append(int token, float logprob) {
    if (length == tokens.length) {
      tokens = Arrays.copyOf(tokens, 2 * length);
    }
    tokens[length++] = token;
    if (generated == logprobs.length) {
      logprobs = Arrays.copyOf(logprobs, 2 * generated);
    }
    logprobs[generated++] = logprob;
  }

  int[] generatedTokens() {
    return Arrays.copyOfRange(tokens, prompt.length, length);
  }

  /** Blocks this request may still allocate before it ends. */
  int futureBlocks() {
    return KvPool.blocksFor(maxPositions) - blockCount;
  }
}
