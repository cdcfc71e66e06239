package dev.art4j.rollout.remote;

/**
 * What a {@link RemoteEngine} knows of one of its servers.
 *
 * @param url       the server's root URL
 * @param up        in rotation (false: taken out after repeated failures, probed on {@code /health})
 * @param inFlight  requests sent to it and not yet answered
 * @param completed requests it answered
 * @param failed    requests that failed on it (connection refused or reset, 5xx, 429, time-out)
 * @param dropped   times it was taken out of rotation
 */
public record ServerStatus(String url, boolean up, int inFlight, long completed, long failed, long dropped) {}
