package dev.art4j.examples.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.reward.rule.FinalAnswer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Math scenarios: determinism per seed, a disjoint held-out split, whole answers; the reward. */
class MathTaskTest {

  @Test
  void sameSeedSameScenariosAndTheSplitsAreDisjoint() {
    MathProblems.Split a = MathProblems.split(11, 500, 100);
    assertEquals(a, MathProblems.split(11, 500, 100));
    assertNotEquals(a.train(), MathProblems.split(12, 500, 100).train());
    assertEquals(500, a.train().size());
    assertEquals(100, a.val().size());
    Set<String> train = new HashSet<>();
    for (MathProblem p : a.train()) {
      assertTrue(train.add(p.operation() + " " + p.a() + " " + p.b()), "no duplicate in train");
    }
    Set<Operation> ops = new HashSet<>();
    for (MathProblem p : a.val()) {
      assertTrue(!train.contains(p.operation() + " " + p.a() + " " + p.b()), "held-out problem seen in training: " + p);
      assertTrue(p.id().startsWith("val-"));
      ops.add(p.operation());
    }
    assertEquals(Set.of(Operation.values()), ops, "every operation is held out too");
  }

  @Test
  void questionsNameTheirNumbersAndAnswersAreWhole() {
    for (MathProblem p : MathProblems.split(3, 2000, 0).train()) {
      assertTrue(p.question().contains(Long.toString(p.a())) && p.question().contains(Long.toString(p.b())), p.question());
      assertTrue(p.question().indexOf(Long.toString(p.a())) < p.question().lastIndexOf(Long.toString(p.b())),
          "operands in reading order: " + p.question());
      assertEquals(Math.rint(p.answer()), p.answer(), "whole answer: " + p);
      assertTrue(p.answer() >= 0, "no negative answers: " + p);
    }
    MathProblem p = new MathProblem("x", Operation.MULTIPLY, 37, 12, "What is 37 times 12?");
    assertEquals("444", p.answerText());
    assertEquals("3.0833333333333335", Operation.format(Operation.DIVISION.apply(37, 12)), "as the server prints it");
  }

  @Test
  void rewardIsOneExactlyForTheRightFinalAnswer() {
    MathProblem p = new MathProblem("x", Operation.MULTIPLY, 37, 12, "What is 37 times 12?");
    assertEquals(1.0, score(p, "multiply", "444", "The answer is 444.").reward());
    Trajectory right = score(p, "multiply", "444", "The answer is 444.");
    assertEquals(1.0, right.metrics().get("success"));
    assertEquals(1.0, right.metrics().get("used_tool"));
    Trajectory wrongTool = score(p, "add", "49", "The answer is 49.");
    assertEquals(0.0, wrongTool.reward());
    assertEquals(0.0, wrongTool.metrics().get("used_tool"));
    assertEquals(1.0, score(p, "add", "49", "It is 444.0").reward(), "right number without the tool still counts");
    assertEquals(0.0, score(p, "multiply", "444", "The answer is 4444.").reward());
    assertEquals(0.0, score(p, "multiply", "444", "no idea").reward());
    assertEquals(1.0, score(p, "multiply", "444", "37 times 12 is 444").reward(), "the last number is the answer");

    Trajectory endsOnCall = Trajectory.ofMessages(List.of(Message.user(p.question()),
        Message.assistant("444", List.of(new ToolCall("c", "multiply", "{\"a\": 37, \"b\": 12}")))));
    assertEquals(0.0, MathReward.of(p).apply(endsOnCall).reward(), "ended on a tool call: no answer");
    assertTrue(FinalAnswer.of(endsOnCall).isEmpty());

    MathProblem neg = new MathProblem("y", Operation.SUBTRACT, 3, 10, "What is 3 minus 10?");
    assertEquals(1.0, score(neg, "subtract", "-7", "The answer is -7.").reward());
    assertEquals(0.0, score(neg, "subtract", "-7", "The answer is 7.").reward());
  }

  private static Trajectory score(MathProblem p, String tool, String result, String answer) {
    Trajectory t = Trajectory.ofMessages(List.of(Message.user(p.question()),
        Message.assistant("", List.of(new ToolCall("c", tool, "{\"a\": " + p.a() + ", \"b\": " + p.b() + "}"))),
        Message.tool("c", tool, result), Message.assistant(answer)));
    return MathReward.of(p).apply(t);
  }
}
