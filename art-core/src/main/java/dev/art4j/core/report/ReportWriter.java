package dev.art4j.core.report;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.run.HistoryEntry;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.ToolErrorKind;
import dev.art4j.core.trajectory.ToolErrorStats;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes {@code report.html} for a run folder: reward, success rate, loss and throughput curves
 * as inline SVG (train and val lines in one chart), the judge's running cost when the history
 * has {@code costs/judge_total}, the last logged metrics of every split, and
 * the trajectories of the latest step of each split, readable turn by turn (messages, tool calls
 * with their arguments, tool results, reward and metrics). Self-contained HTML, no scripts.
 *
 * <p>It reads the run store ({@link RunStore#history()}, which skips a half-written last line of
 * {@code history.jsonl}) and may run while training goes on; the report is replaced atomically.
 */
public final class ReportWriter {

  /** Metric names, in order of preference, that each chart plots; the first one a split has wins. */
  static final Map<String, List<String>> CHARTS = new LinkedHashMap<>();

  static {
    CHARTS.put("Reward", List.of("reward_mean", "reward", "avg_reward"));
    CHARTS.put("Success rate", List.of("success_rate", "success", "accuracy"));
    CHARTS.put("Loss", List.of("loss", "train_loss"));
    CHARTS.put("Throughput (tokens/s)", List.of("tokens_per_second", "tokens_per_s", "tokens/s", "throughput"));
  }

  /** Charts drawn only when some split logs one of their metrics. */
  static final Map<String, List<String>> OPTIONAL_CHARTS = new LinkedHashMap<>();

  static {
    OPTIONAL_CHARTS.put("Judge cost, running total ($)", List.of("costs/judge_total"));
  }

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  private static final Pattern STEP_FILE = Pattern.compile("(\\d{1,9})\\.jsonl");
  private static final int MAX_GROUPS_SHOWN = 8;

  private ReportWriter() {}

  /**
   * Writes {@code runDir/report.html} and returns its path.
   *
   * @throws IllegalArgumentException if {@code runDir} is not a folder
   */
  public static Path write(Path runDir) {
    if (!Files.isDirectory(runDir)) {
      throw new IllegalArgumentException("not a run folder: " + runDir);
    }
    String html = render(runDir);
    Path out = runDir.resolve("report.html");
    Path tmp = runDir.resolve(".report.html.tmp");
    try {
      Files.writeString(tmp, html, StandardCharsets.UTF_8);
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** The report as HTML text. */
  static String render(Path runDir) {
    RunStore store = RunStore.open(runDir);
    List<HistoryEntry> history = store.history();
    List<String> splits = history.stream().map(HistoryEntry::split).distinct().sorted(ReportWriter::splitOrder).toList();

    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>ART4J report: ").append(Html.escape(runName(runDir))).append("</title><style>")
        .append(CSS).append("</style></head><body>\n");
    sb.append("<h1>").append(Html.escape(runName(runDir))).append("</h1>\n<p class=\"path\">")
        .append(Html.escape(runDir.toAbsolutePath().normalize().toString())).append(" · ")
        .append(history.size()).append(" history lines</p>\n");

    sb.append("<section class=\"charts\">\n");
    for (Map.Entry<String, List<String>> chart : CHARTS.entrySet()) {
      sb.append("<figure>").append(chart(chart.getKey(), chart.getValue(), history, splits).toSvg()).append("</figure>\n");
    }
    for (Map.Entry<String, List<String>> chart : OPTIONAL_CHARTS.entrySet()) {
      LineChart c = chart(chart.getKey(), chart.getValue(), history, splits);
      if (c.hasData()) {
        sb.append("<figure>").append(c.toSvg()).append("</figure>\n");
      }
    }
    sb.append("</section>\n");
    appendToolErrors(sb, history, splits);

    sb.append("<h2>Last metrics</h2>\n");
    if (splits.isEmpty()) {
      sb.append("<p>No step logged yet.</p>\n");
    }
    for (String split : splits) {
      // a step may have several lines (the trainer's and the task's metrics): show them merged
      HistoryEntry last = null;
      Map<String, Double> merged = new LinkedHashMap<>();
      for (HistoryEntry h : history) {
        if (h.split().equals(split)) {
          if (last != null && h.step() != last.step()) {
            merged.clear();
          }
          merged.putAll(h.metrics());
          last = h;
        }
      }
      sb.append("<table class=\"metrics\"><caption>").append(Html.escape(split)).append(" · step ").append(last.step())
          .append(last.time() == null ? "" : " · " + Html.escape(shortTime(last.time()))).append("</caption>");
      for (Map.Entry<String, Double> m : merged.entrySet()) {
        sb.append("<tr><th>").append(Html.escape(m.getKey())).append("</th><td>").append(Html.number(m.getValue()))
            .append("</td></tr>");
      }
      if (last.note() != null) {
        sb.append("<tr><th>note</th><td>").append(Html.escape(last.note())).append("</td></tr>");
      }
      sb.append("</table>\n");
    }

    for (Map.Entry<String, Integer> latest : latestTrajectorySteps(runDir).entrySet()) {
      String split = latest.getKey();
      int step = latest.getValue();
      List<TrajectoryGroup> groups = store.trajectories(split, step);
      sb.append("<h2>Trajectories: ").append(Html.escape(split)).append(", step ").append(step).append("</h2>\n");
      int shown = Math.min(groups.size(), MAX_GROUPS_SHOWN);
      if (shown < groups.size()) {
        sb.append("<p>First ").append(shown).append(" of ").append(groups.size()).append(" groups.</p>\n");
      }
      for (int g = 0; g < shown; g++) {
        List<Trajectory> ts = groups.get(g).trajectories();
        double mean = ts.stream().mapToDouble(Trajectory::reward).average().orElse(Double.NaN);
        sb.append("<div class=\"group\"><h3>Group ").append(g).append(" · ").append(ts.size())
            .append(" rollouts · mean reward ").append(Html.number(mean)).append("</h3>\n");
        for (int i = 0; i < ts.size(); i++) {
          appendTrajectory(sb, ts.get(i), i, g == 0 && i == 0);
        }
        sb.append("</div>\n");
      }
    }
    sb.append("</body></html>\n");
    return sb.toString();
  }

  /**
   * The {@link ToolErrorStats} metrics: a chart of the train split's errors by kind, and per
   * split a table of the steps that had failed calls (by kind, then by tool). Nothing when no
   * line has them.
   */
  private static void appendToolErrors(StringBuilder sb, List<HistoryEntry> history, List<String> splits) {
    List<String> kinds = new ArrayList<>();
    for (ToolErrorKind k : ToolErrorKind.values()) {
      kinds.add(ToolErrorStats.PREFIX + k.key());
    }
    if (history.stream().noneMatch(h -> h.metrics().containsKey(kinds.get(0)))) {
      return;
    }
    sb.append("<h2>Tool-call errors</h2>\n");
    String chartSplit = splits.contains("train") ? "train" : splits.get(0);
    LineChart chart = new LineChart("Tool-call errors by kind (" + chartSplit + ")");
    int color = 0;
    for (String kind : kinds) {
      TreeMap<Integer, Double> byStep = new TreeMap<>();
      for (HistoryEntry h : history) {
        if (h.split().equals(chartSplit) && h.metrics().containsKey(kind)) {
          byStep.put(h.step(), h.metric(kind));
        }
      }
      addSeries(chart, kind.substring(ToolErrorStats.PREFIX.length()), COLORS[color++ % COLORS.length], byStep);
    }
    sb.append("<section class=\"charts\"><figure>").append(chart.toSvg()).append("</figure></section>\n");
    for (String split : splits) {
      // a step logged twice (a resumed run) keeps its last line
      TreeMap<Integer, HistoryEntry> bySteps = new TreeMap<>();
      for (HistoryEntry h : history) {
        if (h.split().equals(split) && h.metrics().containsKey(kinds.get(0))) {
          bySteps.put(h.step(), h);
        }
      }
      if (bySteps.isEmpty()) {
        continue;
      }
      List<String> tools = bySteps.values().stream().flatMap(h -> h.metrics().keySet().stream())
          .filter(k -> k.startsWith(ToolErrorStats.TOOL_PREFIX)).distinct().sorted().toList();
      List<HistoryEntry> failing = bySteps.values().stream()
          .filter(h -> kinds.stream().anyMatch(k -> h.metric(k) > 0)).toList();
      sb.append("<table class=\"metrics errors\"><caption>").append(Html.escape(split)).append(" · ")
          .append(failing.size()).append(" of ").append(bySteps.size()).append(" steps with failed tool calls</caption>");
      if (!failing.isEmpty()) {
        sb.append("<tr><th>step</th>");
        for (String k : kinds) {
          sb.append("<th>").append(Html.escape(k.substring(ToolErrorStats.PREFIX.length()))).append("</th>");
        }
        for (String t : tools) {
          sb.append("<th class=\"tool\">").append(Html.escape(t.substring(ToolErrorStats.TOOL_PREFIX.length()))).append("</th>");
        }
        sb.append("</tr>");
        for (HistoryEntry h : failing) {
          sb.append("<tr><td>").append(h.step()).append("</td>");
          for (String k : kinds) {
            sb.append("<td>").append(count(h.metric(k))).append("</td>");
          }
          for (String t : tools) {
            sb.append("<td>").append(count(h.metric(t))).append("</td>");
          }
          sb.append("</tr>");
        }
      }
      sb.append("</table>\n");
    }
  }

  /** A count as a whole number; a metric the line lacks is 0. */
  private static String count(double v) {
    return Double.isNaN(v) ? "0" : v == Math.rint(v) ? Long.toString((long) v) : Html.number(v);
  }

  private static void addSeries(LineChart chart, String name, String color, TreeMap<Integer, Double> byStep) {
    double[] x = byStep.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
    double[] y = byStep.values().stream().mapToDouble(Double::doubleValue).toArray();
    chart.add(new LineChart.Series(name, color, x, y));
  }

  /** One line per split: the first of {@code metrics} the split has, by step (a step logged twice keeps its last value). */
  private static LineChart chart(String title, List<String> metrics, List<HistoryEntry> history, List<String> splits) {
    LineChart c = new LineChart(title);
    if (title.startsWith("Success")) {
      c.yRange(0, 1);
    }
    int color = 0;
    for (String split : splits) {
      List<HistoryEntry> lines = history.stream().filter(h -> h.split().equals(split)).toList();
      String metric = metrics.stream()
          .filter(m -> lines.stream().anyMatch(h -> !Double.isNaN(h.metric(m)))).findFirst().orElse(null);
      if (metric == null) {
        continue;
      }
      TreeMap<Integer, Double> byStep = new TreeMap<>();
      for (HistoryEntry h : lines) {
        if (!Double.isNaN(h.metric(metric))) {
          byStep.put(h.step(), h.metric(metric));
        }
      }
      double[] x = byStep.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
      double[] y = byStep.values().stream().mapToDouble(Double::doubleValue).toArray();
      c.add(new LineChart.Series(split, COLORS[color++ % COLORS.length], x, y));
    }
    return c;
  }

  private static void appendTrajectory(StringBuilder sb, Trajectory t, int index, boolean open) {
    sb.append("<details class=\"trajectory\"").append(open ? " open" : "").append("><summary>#").append(index)
        .append(" · reward <b>").append(Html.number(t.reward())).append("</b>");
    for (Map.Entry<String, Double> m : t.metrics().entrySet()) {
      sb.append(" · ").append(Html.escape(m.getKey())).append(' ').append(Html.number(m.getValue()));
    }
    sb.append("</summary>\n");
    if (!t.metadata().isEmpty()) {
      sb.append("<div class=\"meta\">");
      for (Map.Entry<String, Object> m : t.metadata().entrySet()) {
        sb.append("<span>").append(Html.escape(m.getKey())).append(": ").append(Html.escape(String.valueOf(m.getValue())))
            .append("</span> ");
      }
      sb.append("</div>\n");
    }
    for (Message m : t.messages()) {
      String role = m.role().wireName();
      sb.append("<div class=\"msg ").append(role).append("\"><div class=\"role\">").append(role);
      if (m.name() != null && !m.name().isEmpty()) {
        sb.append(" · ").append(Html.escape(m.name()));
      }
      sb.append("</div>");
      if (m.reasoningContent() != null && !m.reasoningContent().isEmpty()) {
        sb.append("<pre class=\"think\">").append(Html.escape(m.reasoningContent())).append("</pre>");
      }
      if (!m.content().isEmpty()) {
        sb.append("<pre>").append(Html.escape(m.content())).append("</pre>");
      }
      for (ToolCall call : m.toolCalls()) {
        sb.append("<pre class=\"call\">→ ").append(Html.escape(call.name())).append(' ')
            .append(Html.escape(call.argumentsJson())).append("</pre>");
      }
      sb.append("</div>\n");
    }
    for (String line : t.logs()) {
      sb.append("<div class=\"log\">").append(Html.escape(line)).append("</div>\n");
    }
    sb.append("</details>\n");
  }

  /** Per split folder under {@code trajectories/}, the highest step that has a file; splits in report order. */
  static Map<String, Integer> latestTrajectorySteps(Path runDir) {
    Map<String, Integer> out = new TreeMap<>(ReportWriter::splitOrder);
    Path root = runDir.resolve("trajectories");
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (DirectoryStream<Path> splits = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path split : splits) {
        List<Integer> steps = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(split)) {
          for (Path f : files) {
            var m = STEP_FILE.matcher(f.getFileName().toString());
            if (m.matches()) {
              steps.add(Integer.parseInt(m.group(1)));
            }
          }
        }
        steps.stream().max(Integer::compare).ifPresent(s -> out.put(split.getFileName().toString(), s));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root, e);
    }
    return out;
  }

  /** train first, then val, then the rest alphabetically. */
  private static int splitOrder(String a, String b) {
    return Integer.compare(rank(a), rank(b)) != 0 ? Integer.compare(rank(a), rank(b)) : a.compareTo(b);
  }

  private static int rank(String split) {
    return split.equals("train") ? 0 : split.equals("val") ? 1 : 2;
  }

  /** {@code 2026-11-25T14:02:34.834Z} as {@code 2026-11-25 14:02:34}. */
  private static String shortTime(String iso) {
    String t = iso.replace('T', ' ');
    int dot = t.indexOf('.');
    return dot > 0 ? t.substring(0, dot) : t.replace("Z", "");
  }

  private static String runName(Path runDir) {
    Path abs = runDir.toAbsolutePath().normalize();
    Path name = abs.getFileName();
    return name == null ? abs.toString() : name.toString();
  }

  private static final String CSS = """
      body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 12px}
      h1{margin:0 0 4px}h2{margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{margin:6px 0;font-size:15px}
      .path{color:#777;margin:0 0 16px;font-size:12px}
      .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
      figure{margin:0;border:1px solid #e4e4e4;border-radius:6px;background:#fff}
      .chart .title{font-weight:600;font-size:14px}.chart .tick,.chart .axis-label,.chart .legend{font-size:11px;fill:#555}
      .chart .grid{stroke:#eee}.chart .frame{fill:none;stroke:#bbb}.chart .tickmark{stroke:#bbb}.chart .empty{fill:#999}
      table.metrics{border-collapse:collapse;margin:0 24px 12px 0;display:inline-table;vertical-align:top}
      table.metrics caption{text-align:left;font-weight:600;padding:4px 0}
      table.metrics th,table.metrics td{border:1px solid #e4e4e4;padding:2px 8px;text-align:left;font-weight:normal}
      table.metrics td{font-family:ui-monospace,monospace}
      table.errors th.tool{font-style:italic}
      .group{border:1px solid #e4e4e4;border-radius:6px;padding:6px 10px;margin:10px 0;background:#fafafa}
      details.trajectory{margin:4px 0;background:#fff;border:1px solid #eee;border-radius:4px;padding:4px 8px}
      summary{cursor:pointer}.meta{color:#666;font-size:12px;margin:4px 0}
      .msg{margin:6px 0;padding:4px 8px;border-left:4px solid #ccc}.role{font-size:11px;text-transform:uppercase;color:#777}
      .msg.system{border-color:#999}.msg.user{border-color:#1f77b4}.msg.assistant{border-color:#2ca02c}.msg.tool{border-color:#ff7f0e}
      pre{margin:2px 0;white-space:pre-wrap;word-break:break-word;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
      pre.call{color:#8a3ffc}pre.think{color:#888;font-style:italic}.log{font-size:12px;color:#a33}
      """;
}
