package dev.art4j.rollout.agent;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.Turn;
import dev.art4j.rollout.completion.Completion;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One conversation kept token-in/token-out: the messages, and the exact token ids the model has
 * seen and sampled so far. Not thread-safe; {@link #copy()} before sharing.
 *
 * <p>The first prompt is the whole rendered conversation, tokenised once. After that the ids
 * only grow: a reply's sampled ids are appended as they are (never decoded and re-tokenised),
 * and new messages (tool results, a user's follow-up) add the tokens of only the text they add
 * to the rendering. That text is found by rendering the conversation twice: up to the reply
 * (without generation prompt) and with the new messages (with generation prompt). If the
 * template's end-of-turn marker occurs {@code n} times in the first, everything after the
 * {@code n}-th marker in the second is new. The marker itself is the model's own last sampled
 * id, or, when the reply stopped without it (token limit, stop string), an id appended for it.
 * Counting markers instead of comparing prefixes keeps this right for templates that render an
 * earlier reply differently once it is no longer last (Qwen3 drops an empty {@code <think>}).
 */
public final class Transcript {

  private final ChatFormat format;
  private final List<ToolSpec> tools;
  private final List<Message> messages;
  private final List<Turn> turns;
  private int[] ids;
  private int length;
  /** True when the ids end with a generation prompt, ready for a reply. */
  private boolean awaitingReply;
  /** Text prefilled into the coming reply's prompt, parsed as part of the reply. */
  private String prefilled = "";

  private Transcript(ChatFormat format, List<ToolSpec> tools, List<Message> messages, List<Turn> turns,
      int[] ids, int length, boolean awaitingReply) {
    this.format = format;
    this.tools = tools;
    this.messages = messages;
    this.turns = turns;
    this.ids = ids;
    this.length = length;
    this.awaitingReply = awaitingReply;
  }

  /** A conversation from its first messages (system, user, ... anything), rendered and tokenised once. */
  public static Transcript start(ChatFormat format, List<Message> messages, List<ToolSpec> tools) {
    Objects.requireNonNull(format, "format");
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("a conversation needs at least one message");
    }
    List<ToolSpec> t = tools == null ? List.of() : List.copyOf(tools);
    int[] ids = format.encode(format.render(messages, t, true));
    return new Transcript(format, t, new ArrayList<>(messages), new ArrayList<>(), ids, ids.length, true);
  }

  /** The ids to continue: the whole conversation so far, ending with the generation prompt. */
  public int[] prompt() {
    requireAwaitingReply("prompt()");
    return Arrays.copyOf(ids, length);
  }

  /** Number of ids in the conversation so far. */
  public int length() {
    return length;
  }

  /**
   * Appends text the reply must start with (e.g. a forced {@code <tool_call>}); its tokens are
   * prompt, not sampled, and the parsed reply includes it.
   */
  public void prefill(String text) {
    requireAwaitingReply("prefill()");
    append(format.encode(text));
    prefilled = prefilled + text;
  }

  /**
   * Records the model's reply: the turn (prompt ids, sampled ids, log-probs), and the assistant
   * message parsed from it (tool calls with ids {@code idPrefix + i}, not yet checked against
   * the tools).
   */
  public ParsedReply addReply(Completion completion, String idPrefix) {
    return addReply(completion, idPrefix, List.of());
  }

  /**
   * {@link #addReply(Completion, String)} for a reply that may have ended on a stop string: the
   * message's text ends before the first stop string found (OpenAI's {@code stop}); the tokens
   * keep everything sampled.
   */
  public ParsedReply addReply(Completion completion, String idPrefix, List<String> stopStrings) {
    return addReply(completion, idPrefix, stopStrings, false);
  }

  /**
   * {@link #addReply(Completion, String, List)}; with {@code plainText} the reply is content only,
   * never read for tool calls or reasoning (a reply constrained to JSON may hold a string that
   * looks like a call, or be an object that the Llama 3 format would take for one).
   */
  public ParsedReply addReply(Completion completion, String idPrefix, List<String> stopStrings, boolean plainText) {
    requireAwaitingReply("addReply()");
    turns.add(new Turn(Arrays.copyOf(ids, length), completion.tokens().clone(), completion.logprobs().clone(),
        completion.logprobTemperature()));
    append(completion.tokens());
    int[] sampled = completion.tokens();
    if (sampled.length == 0 || sampled[sampled.length - 1] != format.endOfTurnId()) {
      // stopped without closing its turn: the template's end-of-turn goes in as prompt
      append(new int[] {format.endOfTurnId()});
    }
    String text = prefilled + format.decodeReply(sampled);
    for (String stop : stopStrings) {
      int at = stop.isEmpty() ? -1 : text.indexOf(stop, prefilled.length());
      if (at >= 0) {
        text = text.substring(0, at);
      }
    }
    ParsedReply reply = plainText ? new ParsedReply(text.strip(), null, List.of()) : format.parser().parse(text, idPrefix);
    prefilled = "";
    messages.add(reply.toMessage());
    awaitingReply = false;
    return reply;
  }

  /**
   * Adds messages after a reply (tool results, a user's next message) and the generation prompt
   * for the next reply: only the tokens of the text they add are appended.
   */
  public void addMessages(List<Message> newMessages) {
    if (awaitingReply) {
      throw new IllegalStateException("addMessages() needs a reply first: the conversation already ends with a generation prompt");
    }
    for (Message m : newMessages) {
      if (m.role() == Role.ASSISTANT) {
        throw new IllegalArgumentException("an assistant message cannot be added as prompt text: the model's replies come from addReply()");
      }
    }
    String before = format.render(messages, tools, false);
    List<Message> all = new ArrayList<>(messages);
    all.addAll(newMessages);
    String after = format.render(all, tools, true);
    int markers = count(before, format.endOfTurn());
    int from = afterOccurrence(after, format.endOfTurn(), markers);
    if (from < 0) {
      throw new IllegalStateException("the chat template rendered the conversation with fewer than " + markers + " '"
          + format.endOfTurn() + "' markers once " + newMessages.size() + " message(s) were added: cannot extend it token-in/token-out");
    }
    append(format.encode(after.substring(from)));
    messages.addAll(newMessages);
    awaitingReply = true;
  }

  /** The conversation's messages so far. */
  public List<Message> messages() {
    return List.copyOf(messages);
  }

  public List<ToolSpec> tools() {
    return tools;
  }

  public List<Turn> turns() {
    return List.copyOf(turns);
  }

  /** True when the conversation ends with a generation prompt (a reply is due). */
  public boolean awaitingReply() {
    return awaitingReply;
  }

  public ChatFormat format() {
    return format;
  }

  /** A trajectory of the conversation so far (reward 0). */
  public Trajectory toTrajectory() {
    return new Trajectory(messages, tools, turns, 0.0, null, null, null, null);
  }

  /** An independent copy (for branching: several replies to the same prompt). */
  public Transcript copy() {
    Transcript t = new Transcript(format, tools, new ArrayList<>(messages), new ArrayList<>(turns),
        Arrays.copyOf(ids, length), length, awaitingReply);
    t.prefilled = prefilled;
    return t;
  }

  private void append(int[] more) {
    if (length + more.length > ids.length) {
      ids = Arrays.copyOf(ids, Math.max(ids.length * 2, length + more.length));
    }
    System.arraycopy(more, 0, ids, length, more.length);
    length += more.length;
  }

  private void requireAwaitingReply(String what) {
    if (!awaitingReply) {
      throw new IllegalStateException(what + " needs the conversation to end with a generation prompt; add the next messages first");
    }
  }

  static int count(String text, String marker) {
    int n = 0;
    for (int i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + marker.length())) {
      n++;
    }
    return n;
  }

  /** Index just after the n-th occurrence of marker (n >= 1), or -1; n = 0 gives 0. */
  static int afterOccurrence(String text, String marker, int n) {
    int at = 0;
    for (int k = 0; k < n; k++) {
      int i = text.indexOf(marker, at);
      if (i < 0) {
        return -1;
      }
      at = i + marker.length();
    }
    return at;
  }
}
