package dev.art4j.examples.rl;

import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.engine.Backend;
import dev.art4j.rollout.engine.InferenceDtype;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.remote.AdapterSync;
import dev.art4j.rollout.remote.RemoteEngine;
import dev.art4j.rollout.remote.ServerStatus;
import java.util.Map;

/**
 * What samples {@link RlLoop}'s rollouts (and {@code bench loop}'s) and how it learns of a new
 * adapter: the in-process engine over the trained policy, or a fleet of servers that load each
 * step's checkpoint.
 */
public abstract class Rollouts implements AutoCloseable {

  /** The adapter step that {@link #source()} samples from now (0 = the initial adapter). */
  int step;

  /** A source pinned to the current adapter: what a gather launched now samples with. */
  public abstract CompletionSource source();

  /** Step {@code step} has been trained (its checkpoint written): later rollouts use it. */
  public abstract void trained(int step);

  @Override
  public abstract void close();

  /** Fleet metrics for the history (none in-process). */
  Map<String, Double> metrics() {
    return Map.of();
  }

  public static Rollouts local(Policy policy, Backend backend, InferenceDtype inferenceDtype, long seed) {
    return new Local(InferenceEngine.builder().policy(policy).backend(backend).inferenceDtype(inferenceDtype).seed(seed).build());
  }

  /** Connects to the fleet and puts the run's adapter at {@code resumedStep} on it (0: the base model). */
  public static Rollouts remote(RemoteRollouts r, RunStore store, String run, int resumedStep) {
    RemoteEngine fleet = RemoteEngine.builder(r.servers()).rawLogprobs(r.rawLogprobs()).build();
    try {
      AdapterSync sync = new AdapterSync(fleet, run, store.dir(), r.serverCheckpointRoot(), r.maxStepsOffPolicy() + 1);
      Remote out = new Remote(fleet, sync, store);
      if (resumedStep == 0) {
        sync.useBase(); // a fresh LoRA adapter has B = 0: the base model
      } else {
        sync.publish(resumedStep, store.checkpointDir(resumedStep));
      }
      out.step = resumedStep;
      return out;
    } catch (RuntimeException e) {
      fleet.close();
      throw e;
    }
  }

  private static final class Local extends Rollouts {
    private final InferenceEngine engine;

    Local(InferenceEngine engine) {
      this.engine = engine;
      engine.refreshAdapter();
    }

    @Override
    public CompletionSource source() {
      return engine;
    }

    @Override
    public void trained(int s) {
      engine.refreshAdapter();
      step = s;
    }

    @Override
    public void close() {
      engine.close();
    }
  }

  private static final class Remote extends Rollouts {
    private final RemoteEngine fleet;
    private final AdapterSync sync;
    private final RunStore store;

    Remote(RemoteEngine fleet, AdapterSync sync, RunStore store) {
      this.fleet = fleet;
      this.sync = sync;
      this.store = store;
    }

    @Override
    public CompletionSource source() {
      return fleet.pinned(fleet.model());
    }

    @Override
    public void trained(int s) {
      sync.publish(s, store.checkpointDir(s));
      step = s;
    }

    @Override
    Map<String, Double> metrics() {
      int up = 0;
      long dropped = 0;
      for (ServerStatus s : fleet.servers()) {
        up += s.up() ? 1 : 0;
        dropped += s.dropped();
      }
      return Map.of("servers_up", (double) up, "server_drops", (double) dropped);
    }

    @Override
    public void close() {
      fleet.close();
    }
  }
}
