package dev.art4j.reward.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JudgeAnswerTest {

  @Test
  void acceptsIntegerOrStringIdsInAnyOrderAfterThinkingOrInAFence() throws Exception {
    Map<Integer, JudgeAnswer.Entry> m = JudgeAnswer.parse("<think>{\"scores\": []} hmm</think>\n```json\n"
        + "{\"scores\":[{\"trajectory_id\":2,\"explanation\":\"b\",\"score\":0},"
        + "{\"trajectory_id\":\" 1 \",\"explanation\":\"a\",\"score\":\"0.75\"}]}\n```", 2);
    assertEquals(new JudgeAnswer.Entry(0.75, "a"), m.get(1));
    assertEquals(new JudgeAnswer.Entry(0.0, "b"), m.get(2));
    // a local judge whose template opened the thought in the prompt
    Map<Integer, JudgeAnswer.Entry> local = JudgeAnswer.parse(
        "maybe {\"scores\": 1}?\n</think>\n{\"scores\":[{\"trajectory_id\":1,\"explanation\":\"ok\",\"score\":1}]}", 1);
    assertEquals(new JudgeAnswer.Entry(1.0, "ok"), local.get(1));
  }

  private static String reject(String answer, int n) {
    return assertThrows(JudgeAnswer.Invalid.class, () -> JudgeAnswer.parse(answer, n)).getMessage();
  }

  @Test
  void rejectsEveryBreachOfTheContract() {
    String one = "{\"trajectory_id\":\"1\",\"explanation\":\"\",\"score\":0.5}";
    assertTrue(reject("", 1).contains("empty"));
    assertTrue(reject("{\"scores\": [" + one + ",]}", 1).contains("not valid JSON"));
    assertTrue(reject("{\"score\": 1}", 1).contains("no \"scores\" array"));
    assertTrue(reject("{\"scores\":[" + one + "," + one + "]}", 2).contains("scored twice"));
    assertTrue(reject("{\"scores\":[" + one + "]}", 2).contains("missing trajectory_id 2"));
    assertTrue(reject("{\"scores\":[{\"trajectory_id\":\"0\",\"score\":0.5}]}", 1).contains("not one of 1..1"));
    assertTrue(reject("{\"scores\":[{\"score\":0.5}]}", 1).contains("no trajectory_id"));
    assertTrue(reject("{\"scores\":[{\"trajectory_id\":\"first\",\"score\":0.5}]}", 1).contains("not a number"));
    assertTrue(reject("{\"scores\":[{\"trajectory_id\":\"1\",\"score\":-0.01}]}", 1).contains("outside 0..1"));
    assertTrue(reject("{\"scores\":[{\"trajectory_id\":\"1\",\"score\":\"NaN\"}]}", 1).contains("outside 0..1"));
    assertTrue(reject("{\"scores\":[{\"trajectory_id\":\"1\"}]}", 1).contains("no numeric score"));
  }
}
