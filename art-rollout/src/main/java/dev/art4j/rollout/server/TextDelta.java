package dev.art4j.rollout.server;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The text of a completion as it grows token by token, for streaming: {@link #advance} returns
 * only text that cannot change as more tokens come, so the pieces sent add up to the final text.
 * Held back: an unfinished UTF-8 character, a tail that may be the start of a stop string, and with
 * {@code holdMarkup}, everything from the first tool-call or reasoning marker (or a reply that
 * opens with JSON): the final parse takes those out of the content, and they are sent, parsed,
 * when the reply ends.
 */
final class TextDelta {

  private final Function<int[], String> decode;
  private final List<String> stops;
  private final boolean holdMarkup;
  private final int longestStop;
  private int[] tokens = new int[16];
  private int n;
  private int sent;
  private boolean stopped;

  TextDelta(Function<int[], String> decode, List<String> stops, boolean holdMarkup) {
    this.decode = decode;
    this.stops = stops;
    this.holdMarkup = holdMarkup;
    this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
  }

  /** Adds a sampled token (null when it only ends the reply) and returns the text now safe to send. */
  String advance(Integer token) {
    if (token != null) {
      if (n == tokens.length) {
        tokens = Arrays.copyOf(tokens, 2 * n);
      }
      tokens[n++] = token;
    }
    if (stopped) {
      return "";
    }
    String text = decode.apply(Arrays.copyOf(tokens, n));
    int safe = text.length();
    for (String s : stops) {
      int at = text.indexOf(s);
      if (at >= 0 && at < safe) {
        safe = at;
        stopped = true;
      }
    }
    if (!stopped) {
      safe = Math.max(0, safe - Math.max(0, longestStop - 1));
    }
    if (holdMarkup) {
      safe = Math.min(safe, markup(text));
    }
    while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') {
      safe--;
    }
    if (safe <= sent) {
      return "";
    }
    String out = text.substring(sent, safe);
    sent = safe;
    return out;
  }

  /**
   * Where text that the reply parser may take out of the content starts: a tool-call or reasoning
   * marker (or the start of one at the end of the text), or a reply that opens like a JSON call.
   */
  static int markup(String text) {
    String lead = text.stripLeading();
    if (lead.startsWith("{") || lead.startsWith("[")) {
      return text.length() - lead.length();
    }
    for (int lt = text.indexOf('<'); lt >= 0; lt = text.indexOf('<', lt + 1)) {
      String tail = text.substring(lt);
      for (String m : MARKERS) {
        if (tail.startsWith(m) || m.startsWith(tail)) {
          return lt;
        }
      }
    }
    return text.length();
  }

  /** Markers of tool calls and reasoning in the replies of the supported chat formats. */
  private static final List<String> MARKERS = List.of("<tool_call>", "</tool_call>", "<think>", "</think>", "<|python_tag|>");

  /** What is left to send once the final content is known ("" if it does not extend what was sent). */
  String rest(String finalText, String sentSoFar) {
    return finalText.startsWith(sentSoFar) ? finalText.substring(sentSoFar.length()) : "";
  }
}
