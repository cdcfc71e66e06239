package dev.art4j.rollout.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fork-join for the decode step: {@link #run} hands out task indices {@code 0..n-1} to the
 * caller and the worker threads through one atomic counter, so a thread slowed down by other
 * processes on the machine simply takes fewer tasks. A decode step of a 24-layer model makes
 * about a hundred such calls, so the hand-off spins briefly before parking (an executor's
 * futures cost tens of microseconds each).
 */
final class WorkerPool implements AutoCloseable {

  /** One task of a parallel loop. */
  @FunctionalInterface
  interface Body {
    void run(int task);
  }

  /** One call of {@link #run}: a stale worker that still holds an old job finds it exhausted. */
  private static final class Job {
    final Body body;
    final int tasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(Body body, int tasks) {
      this.body = body;
      this.tasks = tasks;
    }

    void work() {
      int i;
      while ((i = next.getAndIncrement()) < tasks) {
        try {
          if (failure == null) {
            body.run(i);
          }
        } catch (Throwable t) {
          failure = t;
        } finally {
          done.incrementAndGet();
        }
      }
    }
  }

  private static final int SPINS = 20_000;

  private final Thread[] workers;
  private volatile Job job;
  private volatile boolean closed;

  /** A pool where {@code threads} threads in all (the caller included) run each loop. */
  WorkerPool(int threads, String name) {
    workers = new Thread[Math.max(0, threads - 1)];
    for (int i = 0; i < workers.length; i++) {
      Thread t = new Thread(this::workerLoop, name + "-" + (i + 1));
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  int threads() {
    return workers.length + 1;
  }

  /**
   * Below this many multiply-adds a loop runs on the caller alone: handing it over would cost
   * more than it saves (tiny models, short attention spans).
   */
  static final long MIN_PARALLEL_WORK = 1 << 17;

  /** {@link #run(int, Body)}, or a plain loop on the caller when {@code work} is small. */
  void run(int tasks, long work, Body body) {
    if (work < MIN_PARALLEL_WORK) {
      for (int i = 0; i < tasks; i++) {
        body.run(i);
      }
    } else {
      run(tasks, body);
    }
  }

  /** Runs {@code body(0..tasks-1)} on all threads and returns when every task has finished. */
  void run(int tasks, Body body) {
    if (tasks <= 0) {
      return;
    }
    if (tasks == 1 || workers.length == 0) {
      for (int i = 0; i < tasks; i++) {
        body.run(i);
      }
      return;
    }
    Job j = new Job(body, tasks);
    job = j;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    j.work();
    int spins = 0;
    while (j.done.get() < tasks) {
      if (++spins < SPINS) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
    if (j.failure != null) {
      Throwable t = j.failure;
      if (t instanceof RuntimeException r) {
        throw r;
      }
      if (t instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(t);
    }
  }

  private void workerLoop() {
    Job seen = null;
    while (!closed) {
      Job j = job;
      if (j != seen && j != null) {
        seen = j;
        j.work();
        continue;
      }
      int spins = 0;
      while (job == seen && !closed && ++spins < SPINS) {
        Thread.onSpinWait();
      }
      if (job == seen && !closed) {
        LockSupport.park(this); // run() unparks after publishing a job (a permit is never lost)
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
  }
}
