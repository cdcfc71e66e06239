package dev.art4j.core.model;

/**
 * A checkpoint, adapter or config file that cannot be used as it is: malformed JSON, a missing
 * field or tensor, a tensor of the wrong shape or dtype, a truncated file. The message always
 * names the file and the field or tensor at fault.
 */
public final class CheckpointException extends RuntimeException {

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
