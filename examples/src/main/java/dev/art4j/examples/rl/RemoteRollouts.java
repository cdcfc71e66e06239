package dev.art4j.examples.rl;

import java.net.URI;
import java.util.List;

/**
 * Where {@link RlLoop} rolls out when not in-process: a fleet of vLLM (or {@code art4j serve})
 * servers, each step's adapter hot-loaded on them.
 *
 * @param servers              the servers' URLs ({@code http://host:port}, with or without {@code /v1})
 * @param serverCheckpointRoot the run folder as the servers see it (null: the same path as here)
 * @param maxStepsOffPolicy    K: rollouts for the next K steps run while a step trains (0 = on-policy)
 * @param rawLogprobs          the servers return temperature-1 log-probs (vLLM without
 *                             {@code --logprobs-mode processed_logprobs})
 */
public record RemoteRollouts(List<URI> servers, String serverCheckpointRoot, int maxStepsOffPolicy, boolean rawLogprobs) {

  public RemoteRollouts {
    servers = List.copyOf(servers);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no rollout servers");
    }
    if (maxStepsOffPolicy < 0) {
      throw new IllegalArgumentException("maxStepsOffPolicy must be >= 0, got " + maxStepsOffPolicy);
    }
  }
}
