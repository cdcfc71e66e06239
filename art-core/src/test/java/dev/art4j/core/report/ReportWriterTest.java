package dev.art4j.core.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's SVG follows the logged data, and the latest trajectories are shown, escaped. */
class ReportWriterTest {

  @TempDir Path dir;

  private static final double[] REWARD = {0.12, 0.30, 0.25, 0.61, 0.90};
  private static final double[] LOSS = {1.5, 1.1, 0.8, 0.82, 0.4};

  @Test
  void chartsFollowTheHistoryAndTrajectoriesAreReadable() throws IOException {
    RunStore store = RunStore.open(dir);
    store.log(List.of(), "val", Map.of("success_rate", 0.0), 0);
    for (int step = 1; step <= REWARD.length; step++) {
      Trajectory t = Trajectory.ofMessages(List.of(
              Message.user("What is 37 times 12? <b>bold</b>"),
              Message.assistant("", List.of(new ToolCall("c1", "multiply", "{\"a\": 37, \"b\": 12}"))),
              Message.tool("c1", "multiply", "444"),
              Message.assistant("The answer is 444.")))
          .withReward(REWARD[step - 1]).withMetric("success", 1.0).withMetadata("answer", "444");
      store.log(List.of(TrajectoryGroup.of(List.of(t, t.withReward(0.0)))), "train",
          Map.of("reward_mean", REWARD[step - 1], "success_rate", REWARD[step - 1], "loss", LOSS[step - 1],
              "tokens_per_second", 100.0 + step), step);
    }
    store.appendHistory(new HistoryEntry(5, "train", Map.of("grad_norm", 0.125), null, null));
    store.log(List.of(), "val", Map.of("success_rate", 0.75), 5);
    // a kill mid-append leaves a torn line: ignored
    Files.writeString(store.historyFile(), "{\"step\":6,\"split\":\"train\",\"metrics\":{\"reward_m",
        StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    Path report = ReportWriter.write(dir);
    assertEquals(dir.resolve("report.html"), report);
    String html = Files.readString(report);

    // reward: train only (val has no reward), 5 points, x evenly spaced, y linear in the data and upside down
    List<double[]> reward = polyline(html, "Reward", "train");
    assertEquals(REWARD.length, reward.size(), "one point per complete step; the torn line is not one");
    double dx = reward.get(1)[0] - reward.get(0)[0];
    assertTrue(dx > 0);
    for (int i = 1; i < reward.size(); i++) {
      assertEquals(dx, reward.get(i)[0] - reward.get(i - 1)[0], 0.02, "steps 1..5 equally spaced");
    }
    double slope = (reward.get(4)[1] - reward.get(0)[1]) / (REWARD[4] - REWARD[0]);
    assertTrue(slope < 0, "higher reward is drawn higher (smaller SVG y)");
    for (int i = 0; i < REWARD.length; i++) {
      assertEquals(reward.get(0)[1] + slope * (REWARD[i] - REWARD[0]), reward.get(i)[1], 0.02, "point " + i);
    }
    assertTrue(polyline(html, "Reward", "val").isEmpty(), "no val reward logged, no val line");

    // success rate: fixed [0, 1] range, train and val lines; val at steps 0 and 5
    List<double[]> val = polyline(html, "Success rate", "val");
    assertEquals(2, val.size());
    assertEquals(LineChart.HEIGHT - LineChart.BOTTOM, val.get(0)[1], 0.01, "0 at the bottom of the plot");
    double top = LineChart.TOP;
    double bottom = LineChart.HEIGHT - LineChart.BOTTOM;
    assertEquals(bottom - 0.75 * (bottom - top), val.get(1)[1], 0.01);
    assertEquals(LineChart.LEFT, val.get(0)[0], 0.01, "step 0 at the left edge");
    assertEquals(LineChart.WIDTH - LineChart.RIGHT, val.get(1)[0], 0.01, "step 5 at the right edge");

    List<double[]> loss = polyline(html, "Loss", "train");
    assertEquals(LOSS.length, loss.size());
    assertTrue(loss.get(2)[1] > loss.get(3)[1] == LOSS[2] < LOSS[3], "the uptick at step 4 is drawn");
    assertEquals(5, polyline(html, "Throughput (tokens/s)", "train").size());

    // the latest train step's trajectories: tool call, tool result, answer; user text escaped
    assertTrue(html.contains("Trajectories: train, step 5"), "latest step shown");
    assertFalse(html.contains("Trajectories: train, step 4"));
    assertTrue(html.contains("→ multiply {&quot;a&quot;: 37, &quot;b&quot;: 12}"), "tool call with arguments");
    assertTrue(html.contains("The answer is 444."));
    assertTrue(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
    assertFalse(html.contains("<b>bold</b>"), "run text is escaped");
    assertTrue(html.contains("reward <b>0.9</b>"), "the step-5 reward in the summary line");
    assertFalse(html.contains("<script"), "no scripts");
    String table = html.substring(html.indexOf("<caption>train"), html.indexOf("</table>", html.indexOf("<caption>train")));
    assertTrue(table.contains("<th>grad_norm</th><td>0.125</td>") && table.contains("<th>reward_mean</th><td>0.9</td>"),
        "the two lines of the last step are shown together: " + table);
  }

  @Test
  void theJudgeCostChartAppearsOnlyWhenTheHistoryHasCosts() throws IOException {
    RunStore store = RunStore.open(dir);
    store.appendHistory(new HistoryEntry(1, "train", Map.of("reward_mean", 0.5), null, null));
    assertFalse(Files.readString(ReportWriter.write(dir)).contains("Judge cost"), "no judge, no cost chart");
    double[] total = {0.002, 0.0035, 0.0061};
    for (int step = 2; step <= 4; step++) {
      store.appendHistory(new HistoryEntry(step, "train", Map.of("reward_mean", 0.5, "costs/judge",
          total[step - 2] - (step == 2 ? 0 : total[step - 3]), "costs/judge_total", total[step - 2]), null, null));
    }
    List<double[]> cost = polyline(Files.readString(ReportWriter.write(dir)), "Judge cost, running total ($)", "train");
    assertEquals(3, cost.size(), "steps 2-4; step 1 had no cost");
    double slope = (cost.get(2)[1] - cost.get(0)[1]) / (total[2] - total[0]);
    assertEquals(cost.get(0)[1] + slope * (total[1] - total[0]), cost.get(1)[1], 0.02);
  }

  @Test
  void toolCallErrorsByKindAndToolPerStep() throws IOException {
    RunStore store = RunStore.open(dir);
    store.appendHistory(new HistoryEntry(1, "train", Map.of("reward_mean", 0.2), null, null));
    assertFalse(Files.readString(ReportWriter.write(dir)).contains("Tool-call errors"), "no counts logged, no section");
    double[] unknown = {3, 0, 1};
    for (int step = 1; step <= 3; step++) {
      Map<String, Double> m = new java.util.LinkedHashMap<>();
      m.put("tool_errors/unknown_tool", unknown[step - 1]);
      m.put("tool_errors/bad_arguments", step == 1 ? 2.0 : 0.0);
      m.put("tool_errors/server_error", 0.0);
      m.put("tool_errors/timeout", step == 3 ? 1.0 : 0.0);
      if (unknown[step - 1] > 0) {
        m.put("tool_errors/tool/(unknown)", unknown[step - 1]);
      }
      if (step == 1) {
        m.put("tool_errors/tool/division", 2.0);
      }
      if (step == 3) {
        m.put("tool_errors/tool/sleep", 1.0);
      }
      store.appendHistory(new HistoryEntry(step, "train", m, null, null));
    }
    String html = Files.readString(ReportWriter.write(dir));
    List<double[]> line = polyline(html, "Tool-call errors by kind (train)", "unknown_tool");
    assertEquals(3, line.size());
    assertTrue(line.get(0)[1] < line.get(2)[1] && line.get(2)[1] < line.get(1)[1], "3, then 0, then 1 drawn in order");
    String table = html.substring(html.indexOf("<table class=\"metrics errors\">"),
        html.indexOf("</table>", html.indexOf("<table class=\"metrics errors\">")));
    assertTrue(table.contains("train · 2 of 3 steps with failed tool calls"), table);
    assertTrue(table.contains("<th>step</th><th>unknown_tool</th><th>bad_arguments</th><th>server_error</th><th>timeout</th>"
        + "<th class=\"tool\">(unknown)</th><th class=\"tool\">division</th><th class=\"tool\">sleep</th></tr>"), table);
    assertTrue(table.contains("<tr><td>1</td><td>3</td><td>2</td><td>0</td><td>0</td><td>3</td><td>2</td><td>0</td></tr>"), table);
    assertTrue(table.contains("<tr><td>3</td><td>1</td><td>0</td><td>0</td><td>1</td><td>1</td><td>0</td><td>1</td></tr>"), table);
    assertFalse(table.contains("<tr><td>2</td>"), "a step without errors has no row");
  }

  @Test
  void emptyRunStillGivesAReport() throws IOException {
    String html = Files.readString(ReportWriter.write(dir));
    assertEquals(4, count(html, "no data yet"));
    assertTrue(html.contains("No step logged yet."));
  }

  @Test
  void ticksAreRoundAndCoverTheRange() {
    List<Double> unit = LineChart.ticks(0, 1, 5);
    assertEquals(6, unit.size());
    for (int i = 0; i < unit.size(); i++) {
      assertEquals(0.2 * i, unit.get(i), 1e-12);
    }
    List<Double> t = LineChart.ticks(3, 117, 6);
    assertEquals(20.0, t.get(1) - t.get(0), 1e-9);
    assertTrue(t.get(0) >= 3 && t.get(t.size() - 1) <= 117);
  }

  /** The points of the polyline of {@code series} in the chart titled {@code title}. */
  private static List<double[]> polyline(String html, String title, String series) {
    int start = html.indexOf(">" + title.replace("(", "(") + "</text>");
    assertTrue(start > 0, "chart " + title + " present");
    int end = html.indexOf("</svg>", start);
    String svg = html.substring(start, end);
    Matcher m = Pattern.compile("<polyline data-series=\"" + Pattern.quote(series) + "\"[^>]*points=\"([^\"]*)\"").matcher(svg);
    List<double[]> out = new ArrayList<>();
    if (m.find()) {
      for (String p : m.group(1).split(" ")) {
        String[] xy = p.split(",");
        out.add(new double[] {Double.parseDouble(xy[0]), Double.parseDouble(xy[1])});
      }
    }
    return out;
  }

  private static int count(String s, String sub) {
    int n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
      n++;
    }
    return n;
  }
}
