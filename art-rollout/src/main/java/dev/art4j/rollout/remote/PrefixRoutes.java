package dev.art4j.rollout.remote;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Session stickiness without a session id: every turn of an agent conversation extends the
 * previous turn's prompt and completion token for token, so a request whose prompt starts with a
 * sequence this map has seen goes to the server that produced it (whose prefix cache holds it).
 * Keys are 64-bit polynomial hashes of a whole prefix: a collision only costs a cold cache on
 * some server, never a wrong answer.
 */
final class PrefixRoutes {

  private static final long P = 0x9E3779B97F4A7C15L;

  private final Map<Long, RemoteServer> routes;

  PrefixRoutes(int capacity) {
    this.routes = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, RemoteServer> eldest) {
        return size() > capacity;
      }
    };
  }

  /** The server that produced the longest known prefix of {@code prompt}, or null. */
  synchronized RemoteServer lookup(int[] prompt) {
    long[] h = prefixHashes(prompt, null);
    for (int len = prompt.length; len > 0; len--) {
      RemoteServer s = routes.get(h[len]);
      if (s != null) {
        return s;
      }
    }
    return null;
  }

  /** Remembers that {@code server} holds {@code prompt} followed by {@code completion}. */
  synchronized void remember(int[] prompt, int[] completion, RemoteServer server) {
    long[] h = prefixHashes(prompt, completion);
    routes.put(h[h.length - 1], server);
  }

  synchronized int size() {
    return routes.size();
  }

  /** {@code h[len]} = hash of the first {@code len} ids of prompt ++ completion. */
  private static long[] prefixHashes(int[] prompt, int[] completion) {
    int n = prompt.length + (completion == null ? 0 : completion.length);
    long[] h = new long[n + 1];
    long x = 0;
    for (int i = 0; i < n; i++) {
      int id = i < prompt.length ? prompt[i] : completion[i - prompt.length];
      x = x * P + id + 1;
      h[i + 1] = x ^ ((long) (i + 1) << 40);
    }
    return h;
  }
}
