package dev.art4j.rollout.server;

/**
 * A request the server refuses, answered with {@code status} and OpenAI's error body
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
class ApiException extends RuntimeException {

  final int status;
  final String type;
  final String param;
  final String code;

  ApiException(int status, String message, String type, String param, String code) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  static ApiException notFound(String message, String code) {
    return new ApiException(404, message, "invalid_request_error", null, code);
  }

  static ApiException tooLarge(long limit) {
    return new ApiException(413, "the request body is over the server's limit of " + limit + " bytes", "invalid_request_error",
        null, "request_too_large");
  }

  static ApiException busy(String message) {
    return new ApiException(429, message, "rate_limit_error", null, "rate_limit_exceeded");
  }
}
