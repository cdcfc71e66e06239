package dev.art4j.rollout.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.art4j.rollout.completion.SamplingParams;
import java.util.function.Predicate;

/**
 * The {@link Sampler}'s draw on the device, for all output rows of a step at once, with one
 * device-to-host transfer (the sampled ids and their log-probs). Per row, with logits z:
 *
 * <pre>
 *   T' = T, or 1 when T = 0 ;  e_i = exp((z_i - max z) / T')
 *   greedy (T = 0):   argmax z
 *   plain (no top-k, top-p = 1): the first id, in id order, whose running sum of e exceeds u * sum e
 *   truncated: ids by descending e; keep the top k (without top-k: the ids of e >= (1 - p) / V * sum e),
 *              then those whose mass before them is under p * (their mass); the first kept id whose
 *              running sum exceeds u * (kept mass)
 *   log-prob of the token = (z_t - max z) / T' - log sum e
 * </pre>
 *
 * <p>u is the request's own {@code rng.nextDouble()}, drawn on the host exactly when the Java
 * {@link Sampler} would draw it, so a seeded request draws the same stream on either backend. A
 * request whose parameters need processing on the host ({@link #needsHost}) has its logits row
 * copied to the host and sampled by the Java {@link Sampler}.
 */
final class DeviceSampler {

  private final int vocab;
  private final Predicate<SamplingParams> hostRows;
  private final Sampler host = new Sampler();
  private final java.util.Set<Integer> eos;

  DeviceSampler(int vocab, Predicate<SamplingParams> hostRows, java.util.Set<Integer> eos) {
    this.eos = eos;
    this.vocab = vocab;
    this.hostRows = hostRows;
  }

  /**
   * Whether a request's sampling needs the host: per-request logit processing (logit bias,
   * penalties, min tokens, a constraint's mask) and top log-probs run there ({@link HostSampling}).
   */
  static boolean needsHost(SamplingParams p) {
    return p.processesLogits() || p.topLogprobs() > 0;
  }

  /** Samples each of {@code logits}' rows (R, V) fp32 for {@code seqs}; writes ids and log-probs. */
  void sample(NDArray logits, Sequence[] seqs, int rows, int[] token, float[] logprob, int[][] topIds,
      float[][] topLps) {
    NDManager m = logits.getManager();
    float[] invT = new float[rows];
    double[] u = new double[rows];
    boolean[] greedy = new boolean[rows];
    boolean[] truncated = new boolean[rows];
    boolean[] onHost = new boolean[rows];
    float[] topK = new float[rows];
    double[] topP = new double[rows];
    double[] floorFactor = new double[rows];
    boolean anyTruncated = false;
    boolean anyHost = false;
    for (int r = 0; r < rows; r++) {
      SamplingParams p = seqs[r].params;
      if (hostRows.test(p)) {
        onHost[r] = anyHost = true;
        greedy[r] = true; // computed on the device too, then replaced
        invT[r] = 1f;
        topK[r] = vocab;
        topP[r] = 2;
        continue;
      }
      greedy[r] = p.temperature() == 0;
      invT[r] = (float) (1.0 / (p.temperature() == 0 ? 1.0 : p.temperature()));
      truncated[r] = !greedy[r] && (p.topK() > 0 || p.topP() < 1);
      anyTruncated |= truncated[r];
      topK[r] = p.topK() > 0 ? p.topK() : vocab;
      topP[r] = p.topP() < 1 ? p.topP() : 2; // 2: every top-k id is kept
      floorFactor[r] = p.topK() == 0 && p.topP() < 1 ? (1 - p.topP()) / vocab : 0;
      if (!greedy[r]) {
        u[r] = seqs[r].rng.nextDouble();
      }
    }
    float[] hostLogits = null;
    int[] hostIndex = new int[rows];
    if (anyHost) {
      int count = 0;
      for (int r = 0; r < rows; r++) {
        if (onHost[r]) {
          hostIndex[r] = count++;
        }
      }
      long[] pick = new long[count];
      for (int r = 0, c = 0; r < rows; r++) {
        if (onHost[r]) {
          pick[c++] = r;
        }
      }
      hostLogits = logits.get(new NDIndex("{}", m.create(pick))).toFloatArray();
    }

    NDArray max = logits.max(new int[] {1}, true); // (R, 1)
    NDArray argmax = logits.argMax(1); // (R) int64
    NDArray scaled = logits.sub(max).mul(m.create(invT, new Shape(rows, 1))); // (R, V) (z - max) / T'
    NDArray e = scaled.exp().toType(DataType.FLOAT64, false); // (R, V)
    NDArray uArray = m.create(u, new Shape(rows, 1));
    NDArray cdf = e.cumSum(1); // (R, V)
    NDArray total = cdf.get(new NDIndex(":, -1:")); // (R, 1)
    NDArray logSum = total.log();
    // first id whose running sum exceeds u * total: the count of running sums at or below it
    NDArray plain = cdf.lte(uArray.mul(total)).toType(DataType.INT64, false).sum(new int[] {1})
        .minimum(vocab - 1); // (R)
    NDArray chosen = plain;
    if (anyTruncated) {
      NDArray order = e.argSort(1, false); // (R, V) ids by descending e
      NDArray sorted = e.gather(order, 1);
      NDArray rank = m.arange(0f, (float) vocab).reshape(1, vocab);
      NDArray keepK = rank.lt(m.create(topK, new Shape(rows, 1))).toType(DataType.FLOAT64, false);
      // as the Sampler does: without top-k, only ids of e >= (1 - p) / V * sum e are candidates, and
      // the nucleus is p of the candidates' mass
      NDArray floor = total.mul(m.create(floorFactor, new Shape(rows, 1)));
      NDArray inK = sorted.mul(keepK).mul(sorted.gte(floor).toType(DataType.FLOAT64, false));
      NDArray cumK = inK.cumSum(1);
      NDArray need = cumK.get(new NDIndex(":, -1:")).mul(m.create(topP, new Shape(rows, 1)));
      NDArray kept = inK.mul(cumK.sub(inK).lt(need).toType(DataType.FLOAT64, false)); // (R, V)
      NDArray cumKept = kept.cumSum(1);
      NDArray place = cumKept.lte(uArray.mul(cumKept.get(new NDIndex(":, -1:")))).toType(DataType.INT64, false)
          .sum(new int[] {1}, true);
      NDArray last = kept.gt(0).toType(DataType.INT64, false).sum(new int[] {1}, true).sub(1);
      NDArray truncatedId = order.gather(place.minimum(last), 1).reshape(rows); // (R)
      chosen = NDArrays.where(m.create(truncated), truncatedId, plain);
    }
    NDArray ids = NDArrays.where(m.create(greedy), argmax, chosen); // (R) int64
    NDArray lp = scaled.gather(ids.reshape(rows, 1), 1).toType(DataType.FLOAT64, false).sub(logSum); // (R, 1)
    double[] back = ids.toType(DataType.FLOAT64, false).reshape(1, rows)
        .concat(lp.reshape(1, rows), 0).toDoubleArray(); // the step's one transfer
    float[] out = new float[1];
    for (int r = 0; r < rows; r++) {
      if (onHost[r]) {
        token[r] = HostSampling.sample(host, hostLogits, hostIndex[r] * vocab, vocab, seqs[r], eos, out, topIds[r], topLps[r]);
        logprob[r] = out[0];
      } else {
        token[r] = (int) back[r];
        logprob[r] = (float) back[rows + r];
      }
    }
  }
}
