package dev.art4j.rollout.remote;

import java.util.concurrent.atomic.AtomicLong;
import okhttp3.HttpUrl;

/**
 * One server of the fleet and what the router knows of it. The mutable fields are guarded by the
 * engine's lock; the counters are read without it for {@link ServerStatus}.
 */
final class RemoteServer {

  final String name;
  final HttpUrl root;
  int inFlight;
  int consecutiveFailures;
  boolean up = true;
  /** Whether a probe is scheduled or running (a down server has exactly one). */
  boolean probing;
  /** The model this server serves (from its {@code /v1/models}), or null before it was asked. */
  volatile String baseModel;
  final AtomicLong completed = new AtomicLong();
  final AtomicLong failed = new AtomicLong();
  final AtomicLong dropped = new AtomicLong();

  RemoteServer(HttpUrl root) {
    this.root = root;
    this.name = root.toString().replaceAll("/$", "");
  }

  HttpUrl url(String path) {
    return root.resolve(path);
  }

  ServerStatus status() {
    return new ServerStatus(name, up, inFlight, completed.get(), failed.get(), dropped.get());
  }

  @Override
  public String toString() {
    return name;
  }
}
