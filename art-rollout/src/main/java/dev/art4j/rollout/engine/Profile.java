package dev.art4j.rollout.engine;

import java.util.EnumMap;
import java.util.Map;

/** Wall time per kind of operation in a step ({@link Decoder#forward}, {@link TensorDecoder}), summed over steps. */
final class Profile {

  /** The kinds of work in a step. */
  enum Op {
    EMBED, NORM, MATMUL_QKV, LORA, ROPE_CACHE, ATTENTION, MATMUL_O, MATMUL_GATE_UP, MATMUL_DOWN, LM_HEAD, SAMPLE,
    /** The tensor backend's whole forward (device ops run asynchronously: no finer split is honest). */
    FORWARD
  }

  private final long[] nanos = new long[Op.values().length];
  long steps;

  /** Adds the time since {@code since} to {@code op}; returns now. */
  long add(Op op, long since) {
    long now = System.nanoTime();
    nanos[op.ordinal()] += now - since;
    return now;
  }

  /** Adds another profile's times and steps to this one. */
  void addAll(Profile other) {
    for (int i = 0; i < nanos.length; i++) {
      nanos[i] += other.nanos[i];
    }
    steps += other.steps;
  }

  Profile copy() {
    Profile p = new Profile();
    p.addAll(this);
    return p;
  }

  void reset() {
    java.util.Arrays.fill(nanos, 0);
    steps = 0;
  }

  /** Milliseconds per step for each kind of op. */
  Map<Op, Double> millisPerStep() {
    Map<Op, Double> m = new EnumMap<>(Op.class);
    for (Op op : Op.values()) {
      m.put(op, steps == 0 ? 0 : nanos[op.ordinal()] / 1e6 / steps);
    }
    return m;
  }
}
