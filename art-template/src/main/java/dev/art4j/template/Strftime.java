package dev.art4j.template;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.time.temporal.IsoFields;
import java.util.Locale;

/**
 * C's {@code strftime} in the C locale (what Python's {@code datetime.now().strftime} gives on
 * Linux), for transformers' {@code strftime_now}; glibc's {@code %-d} (no padding) included.
 */
final class Strftime {

  private Strftime() {}

  static String format(LocalDateTime t, String fmt) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < fmt.length(); i++) {
      char c = fmt.charAt(i);
      if (c != '%' || i + 1 >= fmt.length()) {
        sb.append(c);
        continue;
      }
      char flag = 0;
      char d = fmt.charAt(++i);
      if ((d == '-' || d == '_' || d == '0') && i + 1 < fmt.length()) {
        flag = d;
        d = fmt.charAt(++i);
      }
      switch (d) {
        case 'Y': sb.append(t.getYear()); break;
        case 'y': num(sb, t.getYear() % 100, 2, flag); break;
        case 'm': num(sb, t.getMonthValue(), 2, flag); break;
        case 'd': num(sb, t.getDayOfMonth(), 2, flag); break;
        case 'e': num(sb, t.getDayOfMonth(), 2, flag == 0 ? '_' : flag); break;
        case 'H': num(sb, t.getHour(), 2, flag); break;
        case 'I': num(sb, (t.getHour() + 11) % 12 + 1, 2, flag); break;
        case 'M': num(sb, t.getMinute(), 2, flag); break;
        case 'S': num(sb, t.getSecond(), 2, flag); break;
        case 'f': num(sb, t.getNano() / 1000, 6, flag); break;
        case 'j': num(sb, t.getDayOfYear(), 3, flag); break;
        case 'p': sb.append(t.getHour() < 12 ? "AM" : "PM"); break;
        case 'B': sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH)); break;
        case 'b': case 'h': sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH)); break;
        case 'A': sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH)); break;
        case 'a': sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH)); break;
        case 'w': sb.append(t.getDayOfWeek().getValue() % 7); break;
        case 'u': sb.append(t.getDayOfWeek().getValue()); break;
        case 'V': num(sb, t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR), 2, flag); break;
        case 'G': sb.append(t.get(IsoFields.WEEK_BASED_YEAR)); break;
        case 'U': num(sb, (t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7, 2, flag); break;
        case 'W': num(sb, (t.getDayOfYear() + 6 - (t.getDayOfWeek().getValue() + 6) % 7) / 7, 2, flag); break;
        case 'D': sb.append(format(t, "%m/%d/%y")); break;
        case 'F': sb.append(format(t, "%Y-%m-%d")); break;
        case 'T': sb.append(format(t, "%H:%M:%S")); break;
        case 'R': sb.append(format(t, "%H:%M")); break;
        case 'c': sb.append(format(t, "%a %b %e %H:%M:%S %Y")); break;
        case 'x': sb.append(format(t, "%m/%d/%y")); break;
        case 'X': sb.append(format(t, "%H:%M:%S")); break;
        case 'n': sb.append('\n'); break;
        case 't': sb.append('\t'); break;
        case 'Z': case 'z': break;
        case 's': sb.append(t.atZone(java.time.ZoneId.systemDefault()).toEpochSecond()); break;
        case '%': sb.append('%'); break;
        default: sb.append('%'); if (flag != 0) sb.append(flag); sb.append(d); break;
      }
    }
    return sb.toString();
  }

  private static void num(StringBuilder sb, int v, int width, char flag) {
    String s = Integer.toString(v);
    if (flag != '-') {
      char pad = flag == '_' ? ' ' : '0';
      for (int k = s.length(); k < width; k++) {
        sb.append(pad);
      }
    }
    sb.append(s);
  }

}
