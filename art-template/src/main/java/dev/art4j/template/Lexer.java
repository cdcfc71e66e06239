package dev.art4j.template;

import dev.art4j.template.Token.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Splits a template into text and tag tokens the way Jinja2's lexer does with Hugging Face's
 * settings: {@code trim_blocks} (one newline after a block or comment tag is dropped),
 * {@code lstrip_blocks} (spaces and tabs before a block or comment tag that starts its line are
 * dropped; not before {@code {{}), {@code {%-}/{@code -%}} (all whitespace before/after is
 * dropped) and {@code {%+}/{@code +%}} (the two previous rules are switched off for that tag).
 * Whitespace decisions all happen here, so the parser and evaluator never see them.
 */
final class Lexer {

  private final Source source;
  private final String s;
  private final int n;
  private final List<Token> out = new ArrayList<>();
  private int pos;
  /** Whether the last thing consumed ended with a newline (Jinja2's {@code line_starting}). */
  private boolean lineStarting = true;

  private Lexer(Source source) {
    this.source = source;
    this.s = source.text;
    this.n = s.length();
  }

  static List<Token> tokenize(Source source) {
    Lexer lexer = new Lexer(source);
    lexer.run();
    return lexer.out;
  }

  private void run() {
    while (pos < n) {
      int tag = findTagStart(pos);
      if (tag < 0) {
        emitText(s.substring(pos), pos);
        pos = n;
        break;
      }
      char kind = s.charAt(tag + 1);
      int afterStart = tag + 2;
      char sign = afterStart < n && (s.charAt(afterStart) == '-' || s.charAt(afterStart) == '+') ? s.charAt(afterStart) : 0;
      int rawEnd = kind == '%' ? matchRawBegin(afterStart) : -1;
      String text = s.substring(pos, tag);
      if (sign == '-') {
        text = Py.rstrip(text);
      } else if (sign != '+' && kind != '{') {
        text = lstripBlock(text);
      }
      emitText(text, pos);
      lineStarting = false;
      if (rawEnd >= 0) {
        lineStarting = s.charAt(rawEnd - 1) == '\n';
        pos = rawEnd;
        raw(tag);
      } else if (kind == '#') {
        comment(tag, afterStart + (sign != 0 ? 1 : 0));
      } else {
        boolean block = kind == '%';
        out.add(new Token(block ? Kind.BLOCK_BEGIN : Kind.VARIABLE_BEGIN, s.substring(tag, afterStart), null, tag));
        pos = afterStart + (sign != 0 ? 1 : 0);
        insideTag(block, tag);
      }
    }
    out.add(new Token(Kind.EOF, "", null, n));
  }

  private int findTagStart(int from) {
    for (int i = s.indexOf('{', from); i >= 0 && i + 1 < n; i = s.indexOf('{', i + 1)) {
      char c = s.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
    }
    return -1;
  }

  /** lstrip_blocks: drop the whitespace between the last line start and a block tag. */
  private String lstripBlock(String text) {
    int lpos = text.lastIndexOf('\n') + 1;
    if ((lpos > 0 || lineStarting) && lpos < text.length()) {
      for (int i = lpos; i < text.length(); i++) {
        if (!Py.isSpace(text.charAt(i))) {
          return text;
        }
      }
      return text.substring(0, lpos);
    }
    return text;
  }

  private void emitText(String text, int at) {
    if (!text.isEmpty()) {
      out.add(new Token(Kind.TEXT, text, null, at));
    }
  }

  private int skipSpace(int i) {
    while (i < n && Py.isSpace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  /** Matches {@code (-|+|)\s*raw\s*(-%}\s*|%})} at {@code i}; returns the end or -1. */
  private int matchRawBegin(int i) {
    if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
      i++;
    }
    i = skipSpace(i);
    if (!s.startsWith("raw", i)) {
      return -1;
    }
    i = skipSpace(i + 3);
    if (s.startsWith("-%}", i)) {
      return skipSpace(i + 3);
    }
    return s.startsWith("%}", i) ? i + 2 : -1;
  }

  private void raw(int tagPos) {
    for (int i = s.indexOf("{%", pos); i >= 0; i = s.indexOf("{%", i + 1)) {
      int j = i + 2;
      char sign = j < n && (s.charAt(j) == '-' || s.charAt(j) == '+') ? s.charAt(j) : 0;
      j = skipSpace(j + (sign != 0 ? 1 : 0));
      if (!s.startsWith("endraw", j)) {
        continue;
      }
      j = skipSpace(j + 6);
      int end = blockEnd(j);
      if (end < 0) {
        continue;
      }
      String text = s.substring(pos, i);
      if (sign == '-') {
        text = Py.rstrip(text);
      } else if (sign != '+') {
        text = lstripBlock(text);
      }
      emitText(text, pos);
      lineStarting = s.charAt(end - 1) == '\n';
      pos = end;
      return;
    }
    throw source.syntaxError("Missing end of raw directive", tagPos);
  }

  /** Matches a block end {@code +%}}, {@code -%}\s*} or {@code %}\n?} at {@code i}; returns its end or -1. */
  private int blockEnd(int i) {
    if (s.startsWith("+%}", i)) {
      return i + 3;
    }
    if (s.startsWith("-%}", i)) {
      return skipSpace(i + 3);
    }
    if (s.startsWith("%}", i)) {
      return i + 2 < n && s.charAt(i + 2) == '\n' ? i + 3 : i + 2;
    }
    return -1;
  }

  private void comment(int tagPos, int from) {
    for (int i = from; i < n; i++) {
      int end = -1;
      if (s.startsWith("+#}", i)) {
        end = i + 3;
      } else if (s.startsWith("-#}", i)) {
        end = skipSpace(i + 3);
      } else if (s.startsWith("#}", i)) {
        end = i + 2 < n && s.charAt(i + 2) == '\n' ? i + 3 : i + 2;
      }
      if (end >= 0) {
        lineStarting = s.charAt(end - 1) == '\n';
        pos = end;
        return;
      }
    }
    throw source.syntaxError("Missing end of comment tag", tagPos);
  }

  private void insideTag(boolean block, int tagPos) {
    Deque<Character> balancing = new ArrayDeque<>();
    while (pos < n) {
      if (balancing.isEmpty()) {
        int end = block ? blockEnd(pos) : variableEnd(pos);
        if (end >= 0) {
          out.add(new Token(block ? Kind.BLOCK_END : Kind.VARIABLE_END, s.substring(pos, end).strip(), null, pos));
          lineStarting = s.charAt(end - 1) == '\n';
          pos = end;
          return;
        }
      }
      char c = s.charAt(pos);
      if (Py.isSpace(c)) {
        pos++;
      } else if (c >= '0' && c <= '9') {
        number();
      } else if (c == '_' || Character.isLetter(c)) {
        int start = pos;
        while (pos < n && (s.charAt(pos) == '_' || Character.isLetterOrDigit(s.charAt(pos)))) {
          pos++;
        }
        out.add(new Token(Kind.NAME, s.substring(start, pos), null, start));
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        operator(balancing);
      }
    }
    // Unclosed tag: the parser reports what it was still expecting at the end of the template.
  }

  private int variableEnd(int i) {
    if (s.startsWith("-}}", i)) {
      return skipSpace(i + 3);
    }
    return s.startsWith("}}", i) ? i + 2 : -1;
  }

  private static final String[] OPERATORS = {
    "**", "//", "==", "!=", ">=", "<=",
    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"
  };

  private void operator(Deque<Character> balancing) {
    for (String op : OPERATORS) {
      if (s.startsWith(op, pos)) {
        char c = op.charAt(0);
        if (op.length() == 1) {
          if (c == '{') {
            balancing.push('}');
          } else if (c == '(') {
            balancing.push(')');
          } else if (c == '[') {
            balancing.push(']');
          } else if (c == '}' || c == ')' || c == ']') {
            if (balancing.isEmpty()) {
              throw source.syntaxError("unexpected '" + c + "'", pos);
            }
            char expected = balancing.pop();
            if (expected != c) {
              throw source.syntaxError("unexpected '" + c + "', expected '" + expected + "'", pos);
            }
          }
        }
        out.add(new Token(Kind.OPERATOR, op, null, pos));
        pos += op.length();
        return;
      }
    }
    throw source.syntaxError("unexpected char " + Py.repr(String.valueOf(s.charAt(pos))) + " at " + pos, pos);
  }

  private int digits(int i) {
    // (\d+_)*\d+
    int j = i;
    while (true) {
      int k = j;
      while (k < n && Character.isDigit(s.charAt(k)) && s.charAt(k) < 128) {
        k++;
      }
      if (k == j) {
        return j == i ? -1 : j - 1; // j-1 undoes a trailing '_'
      }
      if (k < n && s.charAt(k) == '_' && k + 1 < n && Character.isDigit(s.charAt(k + 1))) {
        j = k + 1;
      } else {
        return k;
      }
    }
  }

  private void number() {
    int start = pos;
    boolean afterDot = start > 0 && s.charAt(start - 1) == '.';
    if (!afterDot) {
      int intEnd = digits(start);
      int end = -1;
      int i = intEnd;
      if (i < n && s.charAt(i) == '.') {
        int f = digits(i + 1);
        if (f > 0) {
          end = f;
          i = f;
        }
      }
      if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
        int j = i + 1;
        if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
          j++;
        }
        int e = digits(j);
        if (e > 0) {
          end = e;
        }
      }
      if (end > 0) {
        String text = s.substring(start, end);
        out.add(new Token(Kind.FLOAT, text, Double.parseDouble(text.replace("_", "")), start));
        pos = end;
        return;
      }
    }
    int end;
    int radix = 10;
    if (s.charAt(start) == '0' && start + 1 < n && "bBoOxX".indexOf(s.charAt(start + 1)) >= 0) {
      char r = Character.toLowerCase(s.charAt(start + 1));
      radix = r == 'b' ? 2 : r == 'o' ? 8 : 16;
      end = start + 2;
      while (end < n && (Character.digit(s.charAt(end), radix) >= 0 || s.charAt(end) == '_')) {
        end++;
      }
    } else if (s.charAt(start) == '0') {
      end = start + 1;
      while (end < n && (s.charAt(end) == '0' || s.charAt(end) == '_')) {
        end++;
      }
    } else {
      end = digits(start);
    }
    String text = s.substring(start, end);
    String digits = (radix == 10 ? text : text.substring(2)).replace("_", "");
    Object value;
    try {
      value = Long.parseLong(digits, radix);
    } catch (NumberFormatException e) {
      value = new java.math.BigInteger(digits, radix);
    }
    out.add(new Token(Kind.INTEGER, text, value, start));
    pos = end;
  }

  private void string(char quote) {
    int start = pos;
    int i = pos + 1;
    StringBuilder sb = new StringBuilder();
    while (i < n) {
      char c = s.charAt(i);
      if (c == quote) {
        out.add(new Token(Kind.STRING, s.substring(start, i + 1), sb.toString(), start));
        pos = i + 1;
        return;
      }
      if (c != '\\') {
        sb.append(c);
        i++;
        continue;
      }
      if (i + 1 >= n) {
        break;
      }
      i = escape(sb, i + 1, start);
    }
    throw source.syntaxError("unexpected char " + Py.repr(String.valueOf(quote)) + " at " + start, start);
  }

  /** Python's unicode-escape decoding of the escape after a backslash at {@code i - 1}. */
  private int escape(StringBuilder sb, int i, int stringPos) {
    char c = s.charAt(i);
    switch (c) {
      case '\n': return i + 1;
      case '\\': sb.append('\\'); return i + 1;
      case '\'': sb.append('\''); return i + 1;
      case '"': sb.append('"'); return i + 1;
      case 'a': sb.append('\u0007'); return i + 1;
      case 'b': sb.append('\b'); return i + 1;
      case 'f': sb.append('\f'); return i + 1;
      case 'n': sb.append('\n'); return i + 1;
      case 'r': sb.append('\r'); return i + 1;
      case 't': sb.append('\t'); return i + 1;
      case 'v': sb.append('\u000b'); return i + 1;
      case 'x': return hexEscape(sb, i + 1, 2, stringPos);
      case 'u': return hexEscape(sb, i + 1, 4, stringPos);
      case 'U': return hexEscape(sb, i + 1, 8, stringPos);
      default:
        if (c >= '0' && c <= '7') {
          int j = i;
          int v = 0;
          while (j < n && j < i + 3 && s.charAt(j) >= '0' && s.charAt(j) <= '7') {
            v = v * 8 + (s.charAt(j) - '0');
            j++;
          }
          sb.appendCodePoint(v);
          return j;
        }
        sb.append('\\').append(c);
        return i + 1;
    }
  }

  private int hexEscape(StringBuilder sb, int i, int len, int stringPos) {
    if (i + len > n) {
      throw source.syntaxError("truncated \\" + (len == 2 ? "x" : len == 4 ? "u" : "U") + "XXXX escape", stringPos);
    }
    try {
      int v = Integer.parseInt(s.substring(i, i + len), 16);
      sb.appendCodePoint(v);
    } catch (IllegalArgumentException e) {
      throw source.syntaxError("truncated \\" + (len == 2 ? "xXX" : len == 4 ? "uXXXX" : "UXXXXXXXX") + " escape", stringPos);
    }
    return i + len;
  }
}
