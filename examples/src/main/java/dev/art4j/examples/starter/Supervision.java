package dev.art4j.examples.starter;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Role;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A demonstration as the token sequence SFT trains on: the conversation rendered in the compact
 * ChatML format, with every assistant turn's tokens (its text, its tool calls and the closing
 * {@code <|im_end|>}) marked as trained. Each span is tokenised on its own, exactly as the agent
 * loop sees the model's output after {@code <|im_start|>assistant\n}.
 */
final class Supervision {

  private Supervision() {}

  static TokenSequence tokens(List<Message> conversation, List<ToolSpec> tools, Tokenizer tok) {
    List<int[]> pieces = new ArrayList<>();
    List<Boolean> trained = new ArrayList<>();
    int done = 0; // characters of the full rendering already tokenised
    String full = CompactChatMl.render(conversation, tools, false);
    for (int k = 0; k < conversation.size(); k++) {
      if (conversation.get(k).role() != Role.ASSISTANT) {
        continue;
      }
      String prompt = CompactChatMl.render(conversation.subList(0, k), tools, true);
      String withTurn = CompactChatMl.render(conversation.subList(0, k + 1), tools, false);
      int end = withTurn.length() - 1; // the turn ends with <|im_end|>; its "\n" belongs to the next prompt
      if (!full.startsWith(withTurn) || !prompt.startsWith(full.substring(0, done))) {
        throw new IllegalStateException("the compact format does not extend turn by turn at message " + k);
      }
      pieces.add(tok.encode(full.substring(done, prompt.length())));
      trained.add(false);
      pieces.add(tok.encode(full.substring(prompt.length(), end)));
      trained.add(true);
      done = end;
    }
    if (done < full.length()) {
      pieces.add(tok.encode(full.substring(done)));
      trained.add(false);
    }
    int n = pieces.stream().mapToInt(p -> p.length).sum();
    int[] ids = new int[n];
    boolean[] sampled = new boolean[n];
    float[] logprobs = new float[n];
    Arrays.fill(logprobs, Float.NaN);
    int at = 0;
    for (int i = 0; i < pieces.size(); i++) {
      int[] p = pieces.get(i);
      System.arraycopy(p, 0, ids, at, p.length);
      if (trained.get(i)) {
        Arrays.fill(sampled, at, at + p.length, true);
        Arrays.fill(logprobs, at, at + p.length, 0f);
      }
      at += p.length;
    }
    return new TokenSequence(ids, sampled, logprobs);
  }
}
