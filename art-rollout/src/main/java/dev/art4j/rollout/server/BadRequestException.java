package dev.art4j.rollout.server;

/** A request the server answers with HTTP 400 and OpenAI's error body. */
final class BadRequestException extends RuntimeException {

  private final String param;

  BadRequestException(String message, String param) {
    super(message);
    this.param = param;
  }

  /** The request field at fault, or null. */
  String param() {
    return param;
  }
}
