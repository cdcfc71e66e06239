package dev.art4j.rollout.completion;

/**
 * Restricts which ids may be sampled next, from the ids sampled so far (constrained decoding,
 * e.g. "the reply is one JSON object"). Set on {@link SamplingParams.Builder#constraint}; the
 * engine masks every other id to {@code -inf} after the request's own logit processing and before
 * temperature, top-k and top-p, so the log-probs it returns are those of the masked distribution
 * actually sampled from. End-of-sequence and stop ids are allowed exactly when the text is
 * {@link Matcher#complete() complete}; a completion cut by {@code maxNewTokens} first ends with
 * {@link FinishReason#LENGTH} and the unfinished text.
 *
 * <p>Implementations are immutable and thread-safe: one constraint serves many requests, each
 * with its own {@link Matcher}s.
 */
public interface TokenConstraint {

  /** The matcher of a completion that has sampled nothing yet. */
  Matcher start();

  /** Where one completion stands. Immutable: {@link #advance} returns the next one. */
  interface Matcher {

    /**
     * Sets {@code allowed[id]} for every id whose text may come next ({@code allowed} is the
     * model's vocabulary long and all false on entry). End ids are the caller's business.
     */
    void allow(boolean[] allowed);

    /** Whether the text so far is a whole answer: the completion may end here. */
    boolean complete();

    /** The matcher after sampling {@code id}, or null if {@code id} was not allowed. */
    Matcher advance(int id);
  }
}
