package dev.art4j.rollout.engine;

import dev.art4j.core.model.Lora;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.model.Transformer;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples completions for many concurrent requests with one model, in-process: the equivalent
 * of vLLM for the rollout side of RL. Thread-safe; one scheduler thread runs the model.
 *
 * <ul>
 *   <li><b>Continuous batching.</b> Between two steps, finished sequences leave and waiting ones
 *       join; one step runs every decoding sequence's next token plus chunks of new prompts
 *       (prefill is batched too, at most {@code maxStepTokens} rows per step).
 *   <li><b>Prefix sharing.</b> A request whose prompt starts like a running sequence's (the
 *       members of a group send the same prompt) reuses that sequence's cached keys/values:
 *       full cache blocks are shared, the partial one copied, and only the rest is prefilled
 *       (at least the last prompt token, whose logits the request samples from).
 *   <li><b>Prefix cache.</b> A finished request leaves its cache behind until the room is
 *       needed, so the next turn of a conversation (its previous prompt and completion plus
 *       the new messages) prefills only the new tokens.
 *   <li><b>KV budget.</b> The cache holds at most {@code kvTokenBudget} positions. A request
 *       is admitted when the cache can hold its prompt plus {@code maxNewTokens} next to what
 *       running requests may still need; otherwise it queues (first come, first served).
 *   <li><b>Sampling.</b> {@link SamplingParams}: temperature, top-k, top-p, stop ids, stop
 *       strings (with a detokenizer), ignore-eos, per-request seed. Each request has its own
 *       random stream, and a row's result never depends on the other rows of its batch, so a
 *       seeded request gives the same tokens whatever runs beside it.
 *   <li><b>LoRA.</b> The adapter is applied unmerged. Each request uses the adapter weights as
 *       they were when it was submitted: after a training step updates the adapter, call
 *       {@link #refreshAdapter()}; requests submitted afterwards sample from the new weights
 *       (the base weights are never copied or reloaded).
 * </ul>
 *
 * <p>The forward pass computes what {@link Transformer#forward} computes, by one of two
 * {@link Backend}s: {@link Backend#JAVA}, the engine's own plain-Java fp32 kernels over the
 * weights read in place on the CPU, or {@link Backend#TENSOR}, DJL NDArray operations on the
 * weights' device and dtype (the GPU path) with the KV cache in preallocated device tensors and
 * sampling on the device. The scheduling above is the same for both. The model (and adapter)
 * must stay open while the engine runs. The Java backend holds the weights as
 * {@link Builder#inferenceDtype} says: fp32 read in place, or its own bfloat16 copy.
 */
public final class InferenceEngine implements CompletionSource, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InferenceEngine.class);

  private final ModelConfig config;
  private final Backend backend;
  private final StepCompute compute;
  private final KvPool kv;
  private final int maxBatchSize;
  private final int maxStepTokens;
  private final int maxContext;
  private final Set<Integer> eos;
  private final Function<int[], String> detokenizer;
  private final Supplier<Lora> lora;
  private final AtomicLong adapterVersion = new AtomicLong();
  private volatile AdapterSnapshot adapter;
  private final SplittableRandom seeds;
  private final LinkedBlockingQueue<Sequence> incoming = new LinkedBlockingQueue<>();
  private final List<Sequence> waiting = new ArrayList<>();
  private final List<Sequence> live = new ArrayList<>();
  /** Finished sequences whose cache is kept for reuse, least recently used first. */
  private final List<Sequence> finished = new ArrayList<>();
  private static final int MAX_FINISHED = 256;
  private final boolean prefixCache;
  private AdapterSnapshot lastAdapter;
  private final Thread scheduler;
  private volatile boolean closed;
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong promptRows = new AtomicLong();

  private InferenceEngine(Builder b) {
    Transformer model = Objects.requireNonNull(b.model, "model (or policy)");
    this.config = model.config();
    this.maxContext = b.maxContext > 0 ? Math.min(b.maxContext, config.maxPositionEmbeddings())
        : config.maxPositionEmbeddings();
    this.backend = b.backend != null ? b.backend : Backend.of(model);
    int threads = b.threads > 0 ? b.threads : Runtime.getRuntime().availableProcessors();
    this.eos = new HashSet<>(b.eosTokenIds != null ? b.eosTokenIds : config.eosTokenIds());
    this.compute = backend == Backend.JAVA ? new JavaCompute(config, model.weights(), threads, eos, b.inferenceDtype)
        : new TensorDecoder(model, KvPool.blocksFor(b.kvTokenBudget),
            b.hostSampling != null ? b.hostSampling : DeviceSampler::needsHost, eos);
    this.kv = compute.newKvPool(KvPool.blocksFor(b.kvTokenBudget));
    this.maxBatchSize = b.maxBatchSize;
    this.maxStepTokens = Math.max(b.maxStepTokens, b.maxBatchSize);
    this.detokenizer = b.detokenizer;
    this.prefixCache = b.prefixCache;
    this.lora = b.adapter == null ? () -> null : b.adapter;
    this.seeds = new SplittableRandom(b.seed);
    if (backend == Backend.JAVA && Kernels.best() instanceof ScalarKernels && !Boolean.getBoolean("art4j.engine.scalar")) {
      LOG.warn("jdk.incubator.vector is not available: the engine runs its plain-Java kernels, several times "
          + "slower; start the JVM with --add-modules jdk.incubator.vector");
    }
    refreshAdapter();
    this.scheduler = new Thread(this::loop, "art4j-engine");
    scheduler.setDaemon(true);
    scheduler.start();
  }

  /** A builder; {@link Builder#model} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * How the Java backend holds the base weights: {@code BF16} or {@code FP32} ({@code AUTO}
   * resolved). The tensor backend reads the model's own tensors: {@code FP32} here.
   */
  public InferenceDtype inferenceDtype() {
    return compute instanceof JavaCompute j ? j.dtype() : InferenceDtype.FP32;
  }

  /** The architecture of the model this engine samples from. */
  public ModelConfig config() {
    return config;
  }

  /**
   * Takes a new snapshot of the adapter's weights (a copy of A and B, not of the base model):
   * every request submitted after this returns samples from them. Call it after each training
   * step that changed the adapter, or after {@link Policy#setAdapter} (an engine built over a
   * policy reads the policy's adapter now in use). Requests already submitted keep the weights
   * they started with. Call it while no training step is writing the adapter.
   */
  public void refreshAdapter() {
    Lora lora = this.lora.get();
    if (lora == null) {
      adapter = null;
      return;
    }
    adapter = compute.snapshot(lora, adapterVersion.incrementAndGet());
  }

  /**
   * A LoRA adapter frozen for the requests that name it: several can be resident beside the
   * engine's own adapter (a server choosing one per request by model name). Holds a copy of A
   * and B, so the {@link Lora} may be closed afterwards.
   */
  public static final class Adapter {
    final AdapterSnapshot snapshot;

    private Adapter(AdapterSnapshot snapshot) {
      this.snapshot = snapshot;
    }
  }

  /** Freezes {@code lora} (of this engine's model) for {@link #submit(int[], SamplingParams, TokenListener, Adapter)}. */
  public Adapter freeze(Lora lora) {
    return new Adapter(compute.snapshot(Objects.requireNonNull(lora, "lora"), adapterVersion.incrementAndGet()));
  }

  /**
   * {@link #submit(int[], SamplingParams, TokenListener)} with a frozen adapter instead of the
   * engine's own ({@code adapter} null: the base model).
   */
  public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, TokenListener listener, Adapter adapter) {
    return submit(promptIds, params, listener, adapter == null ? null : adapter.snapshot, true);
  }

  /** Which backend computes the steps. */
  public Backend backend() {
    return backend;
  }

  /**
   * Queues a request. The future fails with {@link IllegalArgumentException} for an empty prompt,
   * an id outside the vocabulary, or a prompt that fills the context or the KV budget, and with
   * {@link IllegalStateException} once the engine is closed.
   */
  @Override
  public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params) {
    return submit(promptIds, params, null);
  }

  /**
   * {@link #submit(int[], SamplingParams)} with each token told to {@code listener} (may be null)
   * on the scheduler thread as it is sampled. Cancelling the future frees the request's cache
   * blocks before the next step.
   */
  @Override
  public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, TokenListener listener) {
    return submit(promptIds, params, listener, null, false);
  }

  private CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, TokenListener listener,
      AdapterSnapshot chosen, boolean explicit) {
    CompletableFuture<Completion> future = new CompletableFuture<>();
    try {
      Objects.requireNonNull(params, "params");
      int[] prompt = validate(promptIds);
      // long: maxNewTokens may be Integer.MAX_VALUE ("until the context is full")
      int positions = (int) Math.min((long) prompt.length + params.maxNewTokens(), maxContext);
      if (KvPool.blocksFor(positions) > kv.capacity()) {
        throw new IllegalArgumentException("prompt of " + prompt.length + " tokens plus maxNewTokens "
            + params.maxNewTokens() + " needs " + positions + " cached positions, over the engine's KV budget of "
            + kv.capacity() * KvPool.BLOCK + " tokens");
      }
      SplittableRandom rng;
      if (params.seed().isPresent()) {
        rng = new SplittableRandom(params.seed().getAsLong());
      } else {
        synchronized (seeds) {
          rng = seeds.split();
        }
      }
      if (closed) {
        throw new IllegalStateException("the inference engine is closed");
      }
      Sequence s = new Sequence(prompt, params, explicit ? chosen : adapter, rng, future, positions);
      s.listener = listener;
      incoming.add(s);
      if (closed && incoming.remove(s)) { // lost the race with close(): nobody will run it
        throw new IllegalStateException("the inference engine is closed");
      }
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  private int[] validate(int[] promptIds) {
    if (promptIds == null || promptIds.length == 0) {
      throw new IllegalArgumentException("empty prompt: at least one token id is needed");
    }
    for (int i = 0; i < promptIds.length; i++) {
      if (promptIds[i] < 0 || promptIds[i] >= config.vocabSize()) {
        throw new IllegalArgumentException("prompt token " + i + " has id " + promptIds[i]
            + ", outside the vocabulary [0, " + config.vocabSize() + ")");
      }
    }
    if (promptIds.length >= maxContext) {
      throw new IllegalArgumentException("prompt of " + promptIds.length + " tokens does not fit the model's context of "
          + maxContext + " tokens (room is needed for at least one new token)");
    }
    return promptIds.clone();
  }

  // ---------------------------------------------------------------- scheduler thread

  private void loop() {
    try {
      while (!closed) {
        if (live.isEmpty() && waiting.isEmpty()) {
          Sequence s = incoming.poll(100, TimeUnit.MILLISECONDS);
          if (s != null) {
            waiting.add(s);
          }
        }
        incoming.drainTo(waiting);
        admit();
        if (!live.isEmpty()) {
          step();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      LOG.error("inference engine failed", t);
      closed = true;
      for (Sequence s : live) {
        s.future.completeExceptionally(t);
      }
      live.clear();
    } finally {
      IllegalStateException e = new IllegalStateException("the inference engine was closed");
      incoming.drainTo(waiting);
      for (Sequence s : waiting) {
        s.future.completeExceptionally(e);
      }
      for (Sequence s : live) {
        s.future.completeExceptionally(e);
      }
      waiting.clear();
      live.clear();
      finished.clear();
    }
  }

  /** Moves waiting requests into the batch while the batch and the KV budget allow. */
  private void admit() {
    AdapterSnapshot current = adapter;
    if (current != lastAdapter) {
      // cached prefixes of an older adapter are useless to new requests and pin its weights
      finished.removeIf(s -> {
        if (s.adapter != current) {
          release(s);
          return true;
        }
        return false;
      });
      lastAdapter = current;
    }
    Iterator<Sequence> it = waiting.iterator();
    while (it.hasNext() && live.size() < maxBatchSize) {
      Sequence s = it.next();
      Sequence donor = null;
      int share = 0;
      boolean wait = false;
      for (Sequence o : live) {
        if (o.adapter != s.adapter) {
          continue;
        }
        int common = Math.min(commonPrefix(s.prompt, o), s.prompt.length - 1);
        if (common > o.computed && o.prefilling()) {
          wait = true; // o is computing the very prefix s needs: let it finish, then share it
          break;
        }
        common = Math.min(common, o.computed);
        if (common > share) {
          share = common;
          donor = o;
        }
      }
      if (wait) {
        continue;
      }
      for (Sequence o : finished) {
        int common = o.adapter != s.adapter ? 0 : Math.min(Math.min(commonPrefix(s.prompt, o), s.prompt.length - 1), o.computed);
        if (common > share) {
          share = common;
          donor = o;
        }
      }
      int future = 0;
      for (Sequence o : live) {
        future += o.futureBlocks();
      }
      // make room by forgetting the least recently used finished sequences, the donor last
      while (kv.inUse() + future + KvPool.blocksFor(s.maxPositions) - share / KvPool.BLOCK > kv.capacity()
          && !finished.isEmpty()) {
        Sequence victim = finished.get(0);
        if (victim == donor && finished.size() > 1) {
          victim = finished.get(1);
        }
        if (victim == donor) {
          donor = null;
          share = 0;
        }
        finished.remove(victim);
        release(victim);
      }
      if (kv.inUse() + future + KvPool.blocksFor(s.maxPositions) - share / KvPool.BLOCK > kv.capacity()) {
        break; // first come, first served: later requests wait behind this one
      }
      it.remove();
      int fullShared = share / KvPool.BLOCK;
      for (int i = 0; i < fullShared; i++) {
        kv.retain(donor.blocks[i]);
        s.addBlock(donor.blocks[i]);
      }
      if (share % KvPool.BLOCK != 0) {
        s.addBlock(compute.copyPrefix(kv, donor.blocks[fullShared], share % KvPool.BLOCK));
      }
      if (donor != null && finished.remove(donor)) {
        finished.add(donor); // most recently used
      }
      s.computed = share;
      s.admitNanos = System.nanoTime();
      live.add(s);
    }
  }

  private void release(Sequence s) {
    for (int i = 0; i < s.blockCount; i++) {
      kv.release(s.blocks[i]);
    }
    s.blockCount = 0;
  }

  private static int commonPrefix(int[] prompt, Sequence o) {
    int n = Math.min(prompt.length, o.length);
    int i = 0;
    while (i < n && prompt[i] == o.tokens[i]) {
      i++;
    }
    return i;
  }

  // step buffers, grown as needed
  private int[] rowToken = new int[0];
  private int[] rowPos = new int[0];
  private int[][] rowBlocks = new int[0][];
  private AdapterSnapshot[] rowAdapter = new AdapterSnapshot[0];
  private int[] outRows = new int[0];
  private Sequence[] outSeq = new Sequence[0];
  private int[] sampled = new int[0];
  private float[] sampledLogprob = new float[0];

  /** One forward over every live sequence's next rows, then sampling where a sequence is due. */
  private void step() {
    // a caller that cancelled its future frees the room at once
    for (Iterator<Sequence> it = live.iterator(); it.hasNext(); ) {
      Sequence s = it.next();
      if (s.future.isDone()) {
        it.remove();
        release(s);
      }
    }
    waiting.removeIf(s -> s.future.isDone());
    if (live.isEmpty()) {
      return;
    }
    // decoding sequences first (one row each), then prompt chunks in admission order
    List<Sequence> order = new ArrayList<>(live.size());
    for (Sequence s : live) {
      if (s.length - s.computed == 1) {
        order.add(s);
      }
    }
    for (Sequence s : live) {
      if (s.length - s.computed > 1) {
        order.add(s);
      }
    }
    int budget = maxStepTokens;
    int rows = 0;
    int outs = 0;
    List<Sequence> stepped = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (Sequence s : order) {
      int n = Math.min(s.length - s.computed, budget);
      if (n <= 0) {
        break;
      }
      budget -= n;
      stepped.add(s);
      counts.add(n);
      rows += n;
      if (s.computed + n == s.length) {
        outs++;
      }
    }
    grow(rows, outs);
    int r = 0;
    int o = 0;
    for (int j = 0; j < stepped.size(); j++) {
      Sequence s = stepped.get(j);
      int n = counts.get(j);
      while (s.blockCount < KvPool.blocksFor(s.computed + n)) {
        s.addBlock(kv.allocate());
      }
      promptRows.addAndGet(Math.max(0, Math.min(s.computed + n, s.prompt.length) - s.computed));
      for (int i = 0; i < n; i++) {
        int p = s.computed + i;
        rowToken[r] = s.tokens[p];
        rowPos[r] = p;
        rowBlocks[r] = s.blocks;
        rowAdapter[r] = s.adapter;
        r++;
      }
      if (s.computed + n == s.length) {
        outRows[o] = r - 1;
        outSeq[o] = s;
        o++;
      }
    }
    int[][] topIds = new int[outs][];
    float[][] topLps = new float[outs][];
    for (int j = 0; j < outs; j++) {
      topIds[j] = new int[outSeq[j].listener == null ? 0 : outSeq[j].params.topLogprobs()];
      topLps[j] = new float[topIds[j].length];
    }
    compute.step(rows, rowToken, rowPos, rowBlocks, Arrays.copyOf(rowAdapter, rows), kv, outRows, outSeq, outs,
        sampled, sampledLogprob, topIds, topLps);
    for (int j = 0; j < stepped.size(); j++) {
      stepped.get(j).computed += counts.get(j);
    }
    sampleAndFinish(outs, topIds, topLps);
  }

  private void grow(int rows, int outs) {
    if (rowToken.length < rows) {
      int n = Math.max(rows, 2 * rowToken.length);
      rowToken = new int[n];
      rowPos = new int[n];
      rowBlocks = new int[n][];
      rowAdapter = new AdapterSnapshot[n];
    }
    if (outRows.length < outs) {
      int n = Math.max(outs, 2 * outRows.length);
      outRows = new int[n];
      outSeq = new Sequence[n];
      sampled = new int[n];
      sampledLogprob = new float[n];
    }
  }

  private void sampleAndFinish(int outs, int[][] topIds, float[][] topLps) {
    int[] token = sampled;
    float[] lp = sampledLogprob;
    long now = System.nanoTime();
    for (int j = 0; j < outs; j++) {
      Sequence s = outSeq[j];
      if (s.generated == 0) {
        s.firstTokenNanos = now;
      }
      s.append(token[j], lp[j]);
      if (s.matcher != null && !s.ends(token[j], eos)) {
        s.matcher = s.matcher.advance(token[j]);
        if (s.matcher == null) { // the mask allowed it: a bug, not the request's fault
          live.remove(s);
          release(s);
          s.future.completeExceptionally(new IllegalStateException("token " + token[j]
              + " was sampled outside the request's constraint"));
          continue;
        }
      }
      if (s.listener != null) {
        try {
          s.listener.onToken(s.generated - 1, token[j], lp[j], topIds[j], topLps[j]);
        } catch (RuntimeException e) {
          LOG.warn("a token listener failed; the request goes on", e);
        }
      }
      FinishReason done = finish(s, token[j]);
      if (done != null) {
        live.remove(s);
        if (prefixCache && s.computed > 0) {
          // keep its cache: the next turn of a conversation starts with this very text
          finished.add(s);
          if (finished.size() > MAX_FINISHED) {
            release(finished.remove(0));
          }
        } else {
          release(s);
        }
        long end = System.nanoTime();
        completed.incrementAndGet();
        s.future.complete(new Completion(s.generatedTokens(), Arrays.copyOf(s.logprobs, s.generated),
            Completion.logprobTemperature(s.params), done,
            s.prompt.length, (s.admitNanos - s.submitNanos) / 1e6, (s.firstTokenNanos - s.admitNanos) / 1e6,
            (end - s.firstTokenNanos) / 1e6));
      }
    }
  }

  private FinishReason finish(Sequence s, int token) {
    SamplingParams p = s.params;
    if (!p.ignoreEos() && eos.contains(token)) {
      return FinishReason.STOP;
    }
    if (p.stopTokenIds().contains(token)) {
      return FinishReason.STOP;
    }
    if (!p.stopStrings().isEmpty() && detokenizer != null && s.generated >= p.minTokens()) {
      // a stop string just completed lies in the text of the last few tokens (earlier ones
      // were checked at earlier steps); a token spells at least a byte of UTF-8
      int longest = 0;
      for (String stop : p.stopStrings()) {
        longest = Math.max(longest, stop.length());
      }
      int window = Math.min(s.generated, 4 * longest + 4);
      String text = detokenizer.apply(Arrays.copyOfRange(s.tokens, s.length - window, s.length));
      for (String stop : p.stopStrings()) {
        if (text.contains(stop)) {
          return FinishReason.STOP;
        }
      }
    }
    if (s.generated >= p.maxNewTokens() || s.length >= s.maxPositions) {
      return FinishReason.LENGTH;
    }
    return null;
  }

  /** The per-step computation (tests). */
  StepCompute compute() {
    return compute;
  }

  /** The longest prompt plus completion this engine accepts, in tokens. */
  public int maxContext() {
    return maxContext;
  }

  /** Fraction of the KV budget held now (running requests and the prefix cache), in [0, 1]. */
  public double kvUsage() {
    return (double) kv.inUse() / kv.capacity();
  }

  /** Requests completed since the engine started. */
  public long completedRequests() {
    return completed.get();
  }

  /**
   * What the engine has done since it started (read-only, cumulative; see {@link EngineStats}).
   * The per-operation times are read without stopping the scheduler, so take them while no
   * request runs for exact figures.
   */
  public EngineStats stats() {
    Profile p = compute.profile().copy();
    Map<String, Double> millis = new java.util.LinkedHashMap<>();
    p.millisPerStep().forEach((op, perStep) -> millis.put(op.name().toLowerCase(java.util.Locale.ROOT), perStep * p.steps));
    return new EngineStats(backend, inferenceDtype(), Kernels.best().getClass().getSimpleName(), p.steps, millis,
        completed.get(), kvUsage());
  }

  /** Milliseconds per decoder step by kind of operation, averaged since the last reset. */
  Map<Profile.Op, Double> profile() {
    return compute.profile().millisPerStep();
  }

  /** A copy of the decoder's profile (read while the engine is idle). */
  Profile profileSnapshot() {
    return compute.profile().copy();
  }

  void resetProfile() {
    compute.profile().reset();
  }

  /** Prompt positions computed by prefill since the start (shared prefixes are not recomputed). */
  long promptRowsComputed() {
    return promptRows.get();
  }

  /** Blocks the cache has ever allocated (bounded by the budget). */
  int kvBlocksAllocated() {
    return kv.allocated();
  }

  /**
   * Bytes of Java heap the KV cache holds now: it grows in slabs of 16 MB or more as the cache
   * first fills (up to {@link Builder#kvTokenBudget} positions) and is never given back while the
   * engine runs.
   */
  public long kvCacheBytes() {
    return compute.cacheBytes(kv);
  }

  /** Positions currently held in the KV cache (shared blocks counted once), in blocks of 16. */
  int kvBlocksInUse() {
    return kv.inUse();
  }

  /** Stops the scheduler; queued and running requests fail with {@link IllegalStateException}. */
  @Override
  public void close() {
    closed = true;
    try {
      scheduler.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    compute.close();
  }

  /** Options of an {@link InferenceEngine}. */
  public static final class Builder {
    private Transformer model;
    private Backend backend;
    private java.util.function.Predicate<SamplingParams> hostSampling;
    private Supplier<Lora> adapter;
    private Function<int[], String> detokenizer;
    private List<Integer> eosTokenIds;
    private int kvTokenBudget = 32_768;
    private int maxBatchSize = 32;
    private int maxStepTokens = 256;
    private int maxContext;
    private int threads;
    private long seed = System.nanoTime();
    private boolean prefixCache = true;
    private InferenceDtype inferenceDtype = InferenceDtype.AUTO;

    private Builder() {}

    /**
     * Samples from a policy: its base model, the adapter it has in use (read again by each
     * {@link #refreshAdapter()}), its tokenizer for stop strings, and end-of-sequence ids from
     * both the config and the tokenizer.
     */
    public Builder policy(Policy p) {
      model = p.model();
      adapter = p::adapter;
      p.tokenizer().ifPresent(t -> {
        detokenizer = t::decode;
        Set<Integer> ids = new java.util.LinkedHashSet<>(p.config().eosTokenIds());
        ids.addAll(t.eosTokenIds());
        eosTokenIds = List.copyOf(ids);
      });
      return this;
    }

    /**
     * How the engine holds the base weights (default {@link InferenceDtype#AUTO}: bfloat16 where
     * the weights are bf16 values already, else fp32). {@link InferenceDtype#BF16}: its own
     * bfloat16 copy, half the bytes per decode step; {@link InferenceDtype#FP32}: the model's fp32
     * weights read in place, no copy.
     */
    public Builder inferenceDtype(InferenceDtype v) { inferenceDtype = Objects.requireNonNull(v, "inferenceDtype"); return this; }

    /** The base model (required unless {@link #policy}); see {@link #inferenceDtype} for how its weights are read. */
    public Builder model(Transformer v) { model = v; return this; }

    /** The LoRA adapter to apply (null = base model); see {@link #refreshAdapter()}. */
    public Builder adapter(Lora v) { adapter = () -> v; return this; }

    /** Turns generated ids into text, for stop strings (without one, stop strings are ignored). */
    public Builder detokenizer(Function<int[], String> v) { detokenizer = v; return this; }

    /** End-of-sequence ids (default: the model config's {@code eos_token_id}). */
    public Builder eosTokenIds(List<Integer> v) { eosTokenIds = List.copyOf(v); return this; }

    /**
     * Cached positions across all requests (default 32768; 24 KiB each for Qwen2.5-0.5B). The
     * cache takes its memory on the Java heap as it first fills, in slabs of 16 MB or more
     * (see {@link InferenceEngine#kvCacheBytes()}); with the prefix cache on, a long run fills it.
     */
    public Builder kvTokenBudget(int v) { kvTokenBudget = positive(v, "kvTokenBudget"); return this; }

    /** Sequences decoded together (default 32). */
    public Builder maxBatchSize(int v) { maxBatchSize = positive(v, "maxBatchSize"); return this; }

    /** Rows per forward step, decode rows plus prompt chunks (default 256). */
    public Builder maxStepTokens(int v) { maxStepTokens = positive(v, "maxStepTokens"); return this; }

    /** Context length (default and maximum: the model's {@code max_position_embeddings}). */
    public Builder maxContext(int v) { maxContext = positive(v, "maxContext"); return this; }

    /** Compute threads (default: all processors). */
    public Builder threads(int v) { threads = positive(v, "threads"); return this; }

    /**
     * Whether finished requests leave their cached keys/values behind for later requests that
     * start with the same tokens (default true): the next turn of an agent's conversation then
     * prefills only what was appended. Kept entries are evicted, least recently used first,
     * whenever a new request needs their room.
     */
    public Builder prefixCache(boolean v) { prefixCache = v; return this; }

    /**
     * Which backend computes the steps (default {@link Backend#of}: the Java kernels for fp32
     * weights on the CPU, the tensor backend otherwise; null means that default). {@link Backend#JAVA}
     * refuses weights that are not fp32 on the CPU.
     */
    public Builder backend(Backend v) { backend = v; return this; }

    /** Which requests the tensor backend samples on the host (tests; default {@link DeviceSampler#needsHost}). */
    Builder hostSampling(java.util.function.Predicate<SamplingParams> v) { hostSampling = v; return this; }

    /** Seed of the random streams of unseeded requests (default: the clock). */
    public Builder seed(long v) { seed = v; return this; }

    public InferenceEngine build() {
      return new InferenceEngine(this);
    }

    private static int positive(int v, String name) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + " must be > 0, got " + v);
      }
      return v;
    }
  }
}
