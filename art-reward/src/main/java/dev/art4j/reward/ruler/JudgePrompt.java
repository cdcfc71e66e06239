package dev.art4j.reward.ruler;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.reward.rule.ToolErrors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the judge is asked about one group. Identical trajectories (equal message lists) are
 * shown once: the judge sees {@code uniqueCount()} trajectories numbered 1.. in the order they
 * first appear in the group, and {@link #judgeId(int)} maps every group position to its number.
 * The longest common prefix of the shown trajectories' messages is sent once as context.
 */
final class JudgePrompt {

  final String system;
  final String user;
  private final int[] judgeIds; // group position -> judge id (1-based)
  private final int uniqueCount;

  private JudgePrompt(String system, String user, int[] judgeIds, int uniqueCount) {
    this.system = system;
    this.user = user;
    this.judgeIds = judgeIds;
    this.uniqueCount = uniqueCount;
  }

  int uniqueCount() {
    return uniqueCount;
  }

  /** The id under which the judge saw the trajectory at {@code groupPosition} (0-based). */
  int judgeId(int groupPosition) {
    return judgeIds[groupPosition];
  }

  static JudgePrompt of(List<Trajectory> group, String rubric) {
    Map<List<Message>, Integer> seen = new HashMap<>();
    List<Trajectory> unique = new ArrayList<>();
    int[] ids = new int[group.size()];
    for (int i = 0; i < group.size(); i++) {
      Trajectory t = group.get(i);
      Integer id = seen.get(t.messages());
      if (id == null) {
        unique.add(t);
        id = unique.size();
        seen.put(t.messages(), id);
      }
      ids[i] = id;
    }
    int prefix = unique.size() < 2 ? 0 : commonPrefix(unique);

    StringBuilder user = new StringBuilder();
    List<ToolSpec> tools = toolsOf(unique);
    if (!tools.isEmpty()) {
      user.append("<tools>\n").append(Transcript.tools(tools)).append("\n</tools>\n\n");
    }
    if (prefix > 0) {
      Trajectory first = unique.get(0);
      user.append("<context>\n")
          .append(Transcript.render(first.messages().subList(0, prefix), 0, failedTools(first)))
          .append("\n</context>\n\n");
    }
    user.append("Trajectories:");
    for (int k = 0; k < unique.size(); k++) {
      Trajectory t = unique.get(k);
      List<Message> rest = t.messages().subList(prefix, t.messages().size());
      user.append("\n\n<trajectory id=\"").append(k + 1).append("\">\n")
          .append(rest.isEmpty() ? "(nothing after the context)" : Transcript.render(rest, prefix, failedTools(t)))
          .append("\n</trajectory>");
    }
    return new JudgePrompt(systemText(rubric, unique.size()), user.toString(), ids, unique.size());
  }

  private static String systemText(String rubric, int n) {
    return "All of the trajectories below have been given the same goal. Your job is to consider each of them"
        + " and give them a score between 0 and 1, relative to each other. Take into consideration your best"
        + " judgement of the agent's goal.\n\n"
        + "Grading standards:\n" + rubric.strip() + "\n\n"
        + "The messages each trajectory shares with the others are shown once inside <context>; each trajectory"
        + " continues from there. The tools the agent could call are listed inside <tools>.\n\n"
        + "Answer with JSON only, in exactly this form:\n"
        + "{\"scores\": [{\"trajectory_id\": \"1\", \"explanation\": \"...\", \"score\": 0.0}]}\n"
        + "with exactly one entry for each of the " + n + " trajectories (trajectory_id \"1\" to \"" + n
        + "\"), each explanation a short reason, each score a number from 0 to 1.";
  }

  /** Length of the longest run of leading messages that every trajectory has, equal. */
  private static int commonPrefix(List<Trajectory> ts) {
    List<Message> first = ts.get(0).messages();
    int n = first.size();
    for (Trajectory t : ts) {
      List<Message> m = t.messages();
      int k = 0;
      while (k < n && k < m.size() && m.get(k).equals(first.get(k))) {
        k++;
      }
      n = k;
    }
    return n;
  }

  private static List<ToolSpec> toolsOf(List<Trajectory> ts) {
    Map<String, ToolSpec> byName = new LinkedHashMap<>();
    for (Trajectory t : ts) {
      for (ToolSpec s : t.tools()) {
        byName.putIfAbsent(s.name(), s);
      }
    }
    return List.copyOf(byName.values());
  }

  private static HashSet<Integer> failedTools(Trajectory t) {
    return new HashSet<>(ToolErrors.indices(t));
  }
}
