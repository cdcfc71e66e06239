package dev.art4j.core.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart as hand-written inline SVG: axes with tick labels, one {@code <polyline>} per
 * series, a legend. No scripts, so the report opens anywhere.
 *
 * <p>Data to pixels, with the plot area {@code [left, left+w] x [top, top+h]}:
 * {@code px = left + (x - x0) / (x1 - x0) * w}, {@code py = top + h - (y - y0) / (y1 - y0) * h}.
 * NaN values are left out (the line joins its neighbours).
 */
final class LineChart {

  /** One line: its legend name, stroke colour and points (x ascending). */
  record Series(String name, String color, double[] x, double[] y) {}

  static final int WIDTH = 560;
  static final int HEIGHT = 240;
  static final int LEFT = 56;
  static final int RIGHT = 16;
  static final int TOP = 30;
  static final int BOTTOM = 34;

  private final String title;
  private final List<Series> series = new ArrayList<>();
  private Double fixedMin;
  private Double fixedMax;

  LineChart(String title) {
    this.title = title;
  }

  LineChart add(Series s) {
    series.add(s);
    return this;
  }

  /** Fixes the y range (e.g. [0, 1] for a rate) instead of fitting it to the data. */
  LineChart yRange(double min, double max) {
    this.fixedMin = min;
    this.fixedMax = max;
    return this;
  }

  /** Whether any series has a point to draw. */
  boolean hasData() {
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          return true;
        }
      }
    }
    return false;
  }

  String toSvg() {
    double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
    double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.y()[i]) && Double.isFinite(s.x()[i])) {
          x0 = Math.min(x0, s.x()[i]);
          x1 = Math.max(x1, s.x()[i]);
          y0 = Math.min(y0, s.y()[i]);
          y1 = Math.max(y1, s.y()[i]);
        }
      }
    }
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
        WIDTH, HEIGHT, WIDTH, HEIGHT));
    svg.append("<text class=\"title\" x=\"").append(LEFT).append("\" y=\"18\">").append(Html.escape(title)).append("</text>");
    if (x0 > x1) {
      svg.append("<text class=\"empty\" x=\"").append(WIDTH / 2).append("\" y=\"").append(HEIGHT / 2)
          .append("\" text-anchor=\"middle\">no data yet</text></svg>");
      return svg.toString();
    }
    if (fixedMin != null) {
      y0 = Math.min(fixedMin, y0);
      y1 = Math.max(fixedMax, y1);
    } else {
      double pad = (y1 - y0) * 0.08;
      if (pad == 0) {
        pad = Math.max(Math.abs(y0) * 0.1, 0.5);
      }
      y0 -= pad;
      y1 += pad;
    }
    if (x1 == x0) {
      x0 -= 1;
      x1 += 1;
    }
    double w = WIDTH - LEFT - RIGHT;
    double h = HEIGHT - TOP - BOTTOM;
    Scale sx = new Scale(x0, x1, LEFT, LEFT + w);
    Scale sy = new Scale(y0, y1, TOP + h, TOP);

    // grid and tick labels
    svg.append("<g class=\"axes\">");
    for (double t : ticks(y0, y1, 5)) {
      double py = sy.map(t);
      svg.append(String.format(Locale.ROOT,
          "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              + "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
          LEFT, py, LEFT + w, py, LEFT - 6, py + 4, Html.number(t)));
    }
    for (double t : ticks(x0, x1, 6)) {
      if (t != Math.rint(t)) {
        continue; // steps are whole numbers
      }
      double px = sx.map(t);
      svg.append(String.format(Locale.ROOT,
          "<line class=\"tickmark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              + "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
          px, TOP + h, px, TOP + h + 4, px, TOP + h + 16, Html.number(t)));
    }
    svg.append(String.format(Locale.ROOT,
        "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/>", LEFT, TOP, w, h));
    svg.append(String.format(Locale.ROOT, "<text class=\"axis-label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">step</text>",
        LEFT + w / 2, HEIGHT - 3));
    svg.append("</g>");

    // the lines, then a legend at the top right
    int legendX = WIDTH - RIGHT;
    for (int k = series.size() - 1; k >= 0; k--) {
      Series s = series.get(k);
      StringBuilder pts = new StringBuilder();
      int n = 0;
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.y()[i]) && Double.isFinite(s.x()[i])) {
          if (n++ > 0) {
            pts.append(' ');
          }
          pts.append(String.format(Locale.ROOT, "%.2f,%.2f", sx.map(s.x()[i]), sy.map(s.y()[i])));
        }
      }
      svg.append("<polyline data-series=\"").append(Html.escape(s.name())).append("\" fill=\"none\" stroke=\"")
          .append(s.color()).append("\" stroke-width=\"2\" points=\"").append(pts).append("\"/>");
      if (n <= 60) {
        for (String p : pts.toString().split(" ")) {
          if (!p.isEmpty()) {
            String[] xy = p.split(",");
            svg.append("<circle r=\"2.5\" fill=\"").append(s.color()).append("\" cx=\"").append(xy[0])
                .append("\" cy=\"").append(xy[1]).append("\"/>");
          }
        }
      }
      int textWidth = 8 + 7 * s.name().length();
      legendX -= textWidth + 14;
      svg.append(String.format(Locale.ROOT,
          "<rect x=\"%d\" y=\"10\" width=\"10\" height=\"10\" fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"19\">%s</text>",
          legendX, s.color(), legendX + 14, Html.escape(s.name())));
    }
    svg.append("</svg>");
    return svg.toString();
  }

  /** About {@code n} round tick values (1, 2 or 5 times a power of ten apart) within [lo, hi]. */
  static List<Double> ticks(double lo, double hi, int n) {
    double raw = (hi - lo) / Math.max(1, n);
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double r = raw / mag;
    double step = (r >= 7.5 ? 10 : r >= 3.5 ? 5 : r >= 1.5 ? 2 : 1) * mag;
    List<Double> out = new ArrayList<>();
    for (long k = (long) Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
      out.add(k * step);
    }
    return out;
  }

  /** A linear map from data to pixels. */
  private record Scale(double d0, double d1, double p0, double p1) {
    double map(double v) {
      return p0 + (v - d0) / (d1 - d0) * (p1 - p0);
    }
  }
}
