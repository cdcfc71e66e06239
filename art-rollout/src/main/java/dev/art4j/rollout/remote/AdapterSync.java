package dev.art4j.rollout.remote;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * Keeps a fleet's LoRA adapter in step with the trainer: after step {@code s} the trainer's PEFT
 * checkpoint folder is loaded on every server as {@code "<run>@<s>"}, rollouts from then on name
 * it, and adapters older than the last {@code keep} are unloaded (keep {@code K + 1} when rollouts
 * may run {@code K} steps behind). The folder is given to the servers under their own root: a
 * local path {@code <localRoot>/x} becomes {@code <serverRoot>/x} (a shared or synced filesystem
 * mounted elsewhere on the servers, as ART's {@code local_checkpoint_root}/{@code server_checkpoint_root}).
 * A load that any server refuses throws {@link AdapterLoadException}: rollouts never continue
 * silently on the previous adapter.
 */
public final class AdapterSync {

  private final RemoteEngine fleet;
  private final String run;
  private final Path localRoot;
  private final String serverRoot;
  private final int keep;
  private final Deque<String> loaded = new ArrayDeque<>();

  /**
   * @param fleet      the servers
   * @param run        adapter names are {@code run + "@" + step}
   * @param localRoot  the folder that holds the checkpoints here
   * @param serverRoot the same folder as the servers see it, or null when they see it at the same path
   * @param keep       adapters left loaded (at least 1)
   */
  public AdapterSync(RemoteEngine fleet, String run, Path localRoot, String serverRoot, int keep) {
    this.fleet = Objects.requireNonNull(fleet, "fleet");
    this.run = Objects.requireNonNull(run, "run");
    this.localRoot = localRoot.toAbsolutePath().normalize();
    this.serverRoot = serverRoot == null ? null : serverRoot.replaceAll("/+$", "");
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be >= 1, got " + keep);
    }
    this.keep = keep;
  }

  /** The adapter name of step {@code step}. */
  public String adapterName(int step) {
    return run + "@" + step;
  }

  /** {@code checkpointDir} as the servers see it. */
  public String serverPath(Path checkpointDir) {
    Path local = checkpointDir.toAbsolutePath().normalize();
    if (!local.startsWith(localRoot)) {
      throw new IllegalArgumentException("checkpoint " + local + " is not under the local checkpoint root " + localRoot);
    }
    if (serverRoot == null) {
      return local.toString();
    }
    StringBuilder sb = new StringBuilder(serverRoot);
    for (Path part : localRoot.relativize(local)) {
      sb.append('/').append(part);
    }
    return sb.toString();
  }

  /**
   * Loads step {@code step}'s checkpoint on every server, makes it the adapter new rollouts use,
   * and unloads the oldest beyond {@code keep}.
   *
   * @return the adapter's name
   * @throws AdapterLoadException if a server refuses it (the fleet keeps its previous adapter)
   */
  public String publish(int step, Path checkpointDir) {
    String name = adapterName(step);
    fleet.loadAdapter(name, serverPath(checkpointDir));
    fleet.useModel(name);
    loaded.addLast(name);
    while (loaded.size() > keep) {
      fleet.unloadAdapter(loaded.removeFirst());
    }
    return name;
  }

  /** Rollouts use the base model (step 0 of a fresh adapter, whose B is zero). */
  public String useBase() {
    fleet.useModel(fleet.baseModel());
    return fleet.baseModel();
  }
}
