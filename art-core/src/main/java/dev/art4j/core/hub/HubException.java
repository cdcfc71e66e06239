package dev.art4j.core.hub;

/**
 * A Hub request or cache lookup that failed, with a message that says what to do about it
 * (set {@code HF_TOKEN}, check the repo id, pass {@code --download}, ...).
 */
public final class HubException extends RuntimeException {

  private final int status;

  HubException(String message) {
    this(message, 0, null);
  }

  HubException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status that caused this error, or 0 when none did (a cache miss, an I/O error). */
  public int status() {
    return status;
  }
}
