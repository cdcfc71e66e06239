package dev.art4j.reward.ruler;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.Trajectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Prints, as JSON, how much the shared context and de-duplication shrink the judge's prompt for
 * a typical tool-use group: 8 rollouts of one scenario with a long system prompt, two of them
 * identical. {@code naive_chars} = every trajectory rendered in full, as a prompt without
 * prefix sharing would send it.
 *
 * <p>Run: {@code mvn -B -q -o -pl art-reward -am test-compile && java -cp "art-reward/target/test-classes:art-reward/target/classes:art-core/target/classes:$(cat cp.txt)" dev.art4j.reward.ruler.PromptSizeBench}
 * (with {@code cp.txt} from {@code mvn -q -o -pl art-reward -am dependency:build-classpath -Dmdep.outputFile=$PWD/cp.txt}).
 */
public final class PromptSizeBench {

  public static void main(String[] args) {
    String system = "You are a math assistant with tools. Think step by step, call exactly the tools you need, "
        .repeat(15) + "and finish with the number alone.";
    List<Message> prefix = List.of(Message.system(system), Message.user("A shop sells 17 pens at 25 cents. What do they cost in dollars?"));
    List<Trajectory> group = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      List<Message> m = new ArrayList<>(prefix);
      int variant = i == 5 ? 1 : i == 7 ? 2 : i; // rollouts 5 and 7 repeat 1 and 2 exactly
      m.add(Message.assistant("I will multiply first (" + variant + ").",
          List.of(new ToolCall("c1", "multiply", "{\"a\":17,\"b\":25}"))));
      m.add(Message.tool("c1", "multiply", "425"));
      for (int k = 0; k < variant % 3; k++) {
        m.add(Message.assistant("", List.of(new ToolCall("c" + (k + 2), "add", "{\"a\":425,\"b\":0}"))));
        m.add(Message.tool("c" + (k + 2), "add", "425"));
      }
      m.add(Message.assistant("", List.of(new ToolCall("c9", "divide", "{\"a\":425,\"b\":100}"))));
      m.add(Message.tool("c9", "divide", "4.25"));
      m.add(Message.assistant(variant % 4 == 3 ? "4.52" : "4.25"));
      group.add(Trajectory.ofMessages(m));
    }
    JudgePrompt prompt = JudgePrompt.of(group, Ruler.DEFAULT_RUBRIC);
    int naive = 0;
    for (Trajectory t : group) {
      naive += Transcript.render(t.messages(), 0, Set.of()).length() + 40; // + the trajectory tags
    }
    int sent = prompt.user.length();
    System.out.printf("{\"trajectories\":%d,\"shown\":%d,\"prompt_chars\":%d,\"naive_chars\":%d,\"ratio\":%.2f}%n",
        group.size(), prompt.uniqueCount(), sent, naive, (double) naive / sent);
  }
}
