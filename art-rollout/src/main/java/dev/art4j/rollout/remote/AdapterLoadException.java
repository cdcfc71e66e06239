package dev.art4j.rollout.remote;

/**
 * A server refused to load (or could not be asked to load) a LoRA adapter. Training must stop:
 * rolling out on the previous adapter while the trainer believes the new one is live would
 * silently train off-policy.
 */
public final class AdapterLoadException extends RuntimeException {

  private final String server;
  private final String adapterPath;

  AdapterLoadException(String server, String adapter, String adapterPath, String reason, Throwable cause) {
    super(server + " could not load LoRA adapter '" + adapter + "' from " + adapterPath + ": " + reason, cause);
    this.server = server;
    this.adapterPath = adapterPath;
  }

  /** The server's root URL. */
  public String server() {
    return server;
  }

  /** The adapter folder as the server was asked to read it. */
  public String adapterPath() {
    return adapterPath;
  }
}
