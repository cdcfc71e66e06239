package dev.art4j.rollout.server;

/** A request the server answers with HTTP 400 and OpenAI's error body, naming the field at fault. */
final class BadRequestException extends ApiException {

  BadRequestException(String message, String param) {
    super(400, message, "invalid_request_error", param, null);
  }

  /** The request field at fault, or null. */
  String param() {
    return param;
  }
}
