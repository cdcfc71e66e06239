package dev.art4j.reward.ruler;

/**
 * The judge could not score a group: every attempt failed (HTTP errors, time-outs, or answers
 * that broke the JSON contract). The message says how many attempts were made and why the
 * last one failed; the cause is the last failure.
 */
public final class RulerException extends RuntimeException {

  RulerException(String message, Throwable cause) {
    super(message, cause);
  }
}
