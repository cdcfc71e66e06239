package dev.art4j.rollout.constrain;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte automaton of JSON text under a {@link Schema}: fed one UTF-8 byte at a time, it says
 * whether the text so far can still become a valid document. Bytes, not characters, because a
 * byte-level BPE token may hold part of a character; inside strings the machine checks UTF-8
 * itself (no overlong forms, no surrogates), so whatever it accepts decodes without a replacement
 * character.
 *
 * <p>A configuration is an immutable stack of frames (a value expected, inside a string, an
 * object, an array, a number, a literal such as {@code true} or an enum's text) sharing its tail
 * with the configuration it came from, so testing a byte never changes the state it started
 * from. The machine's state is a set of configurations: {@code anyOf}, enums with a common
 * prefix and a number that may end or go on are the places where it branches.
 *
 * <p>Whitespace: none before the document or after it, at most {@link #MAX_WS} bytes in a row
 * between tokens inside it (as vLLM and outlines bound it, so a model cannot loop on spaces);
 * numbers have at most {@link #MAX_INT_DIGITS} integer digits, {@link #MAX_FRACTION_DIGITS}
 * fraction digits and {@link #MAX_EXPONENT_DIGITS} exponent digits, for the same reason.
 * Object keys: a listed property is matched on its JSON spelling, each at most once; other keys
 * (where additional properties are allowed) may not contain backslash escapes.
 */
final class JsonMachine {

  /** The most whitespace bytes in a row between two tokens of the document. */
  static final int MAX_WS = 16;
  /**
   * The most digits of a number's integer part (18: every such integer fits a long), fraction (16,
   * about what a double holds) and exponent (3): a model cannot write digits forever.
   */
  static final int MAX_INT_DIGITS = 18, MAX_FRACTION_DIGITS = 16, MAX_EXPONENT_DIGITS = 3;

  private JsonMachine() {}

  /** One configuration: frames from the innermost out. */
  record Stack(Frame top, Stack below) {}

  sealed interface Frame permits End, Value, Lit, Str, Num, Obj, Arr {}

  /** The document is complete; nothing may follow. */
  record End() implements Frame {}

  /** A value of {@code schema} is expected (after at most {@link #MAX_WS} spaces when {@code ws}). */
  record Value(Schema schema, boolean ws, int spaces) implements Frame {}

  /** Exactly {@code text} from {@code pos} on. */
  record Lit(byte[] text, int pos) implements Frame {}

  /** Inside a string of {@code length} characters; {@code escape}: see {@link #string}; {@code utf8}: pending bytes. */
  record Str(Schema schema, int length, int escape, int utf8) implements Frame {}

  /** Inside a number, {@code digits} into its current part. */
  record Num(boolean integer, int phase, int digits) implements Frame {}

  /** Inside an object; {@code key}: the key so far (phase KEY); {@code value}: the schema of the value after the colon. */
  record Obj(Schema schema, long seen, int phase, int spaces, byte[] key, int utf8, boolean escaped, Schema value)
      implements Frame {}

  /** Inside an array holding {@code count} values. */
  record Arr(Schema schema, int count, int phase, int spaces) implements Frame {}

  static final End END = new End();
  private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  // object and array phases
  private static final int OPEN = 0, BEFORE_KEY = 1, KEY = 2, COLON = 3, AFTER_VALUE = 4;
  // number phases
  private static final int MINUS = 0, ZERO = 1, INT = 2, DOT = 3, FRAC = 4, EXP = 5, EXP_SIGN = 6, EXP_DIGITS = 7;

  /** A document of {@code schema} and nothing after it. */
  static Stack document(Schema schema) {
    return new Stack(new Value(schema, false, 0), new Stack(END, null));
  }

  /** {@code prefix}, a value of {@code schema}, then {@code suffix}. */
  static Stack framed(String prefix, Schema schema, String suffix) {
    Stack s = new Stack(END, null);
    if (!suffix.isEmpty()) {
      s = new Stack(new Lit(suffix.getBytes(StandardCharsets.UTF_8), 0), s);
    }
    s = new Stack(new Value(schema, false, 0), s);
    if (!prefix.isEmpty()) {
      s = new Stack(new Lit(prefix.getBytes(StandardCharsets.UTF_8), 0), s);
    }
    return s;
  }

  /** Per-thread scratch for {@link #step(Stack[], int)}: emptied before each use, copied out after. */
  private static final ThreadLocal<ArrayList<Stack>> SCRATCH = ThreadLocal.withInitial(() -> new ArrayList<>(8));

  /** The states after byte {@code b} (0..255), or null if every configuration rejects it. */
  static Stack[] step(Stack[] states, int b) {
    ArrayList<Stack> out = SCRATCH.get();
    out.clear();
    for (Stack s : states) {
      step(s, b, out);
    }
    if (out.isEmpty()) {
      return null;
    }
    Stack[] next = out.size() == 1 ? new Stack[] {out.get(0)} : out.toArray(new Stack[0]);
    out.clear();
    return next;
  }

  /** Whether some configuration is a whole document. */
  static boolean complete(Stack[] states) {
    for (Stack s : states) {
      if (complete(s)) {
        return true;
      }
    }
    return false;
  }

  private static boolean complete(Stack s) {
    return switch (s.top) {
      case End e -> true;
      case Num n -> numberEnds(n.phase) && complete(s.below);
      default -> false;
    };
  }

  static boolean isWs(int b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }

  private static void step(Stack s, int b, List<Stack> out) {
    switch (s.top) {
      case End e -> { }
      case Value v -> {
        if (isWs(b)) {
          if (v.ws && v.spaces < MAX_WS) {
            out.add(new Stack(new Value(v.schema, true, v.spaces + 1), s.below));
          }
        } else {
          start(v.schema, b, s.below, out, 0);
        }
      }
      case Lit l -> {
        if ((l.text[l.pos] & 0xff) == b) {
          out.add(l.pos + 1 == l.text.length ? s.below : new Stack(new Lit(l.text, l.pos + 1), s.below));
        }
      }
      case Str x -> string(x, b, s.below, out);
      case Num n -> number(n, b, s.below, out);
      case Obj o -> object(o, b, s.below, out);
      case Arr a -> array(a, b, s.below, out);
    }
  }

  /** The first byte of a value of {@code schema}. */
  private static void start(Schema schema, int b, Stack below, List<Stack> out, int depth) {
    Schema sc = schema.resolve();
    if (sc.literals != null) {
      for (byte[] lit : sc.literals) {
        if ((lit[0] & 0xff) == b) {
          out.add(lit.length == 1 ? below : new Stack(new Lit(lit, 1), below));
        }
      }
      return;
    }
    if (sc.anyOf != null) {
      if (depth < 32) { // a reference cycle through anyOf alone has no value to start
        for (Schema alt : sc.anyOf) {
          start(alt, b, below, out, depth + 1);
        }
      }
      return;
    }
    int t = sc.types;
    boolean integer = (t & Schema.NUMBER) == 0;
    boolean number = (t & (Schema.NUMBER | Schema.INTEGER)) != 0;
    switch (b) {
      case '{' -> {
        if ((t & Schema.OBJECT) != 0) {
          out.add(new Stack(new Obj(sc, 0, OPEN, 0, null, 0, false, null), below));
        }
      }
      case '[' -> {
        if ((t & Schema.ARRAY) != 0) {
          out.add(new Stack(new Arr(sc, 0, OPEN, 0), below));
        }
      }
      case '"' -> {
        if ((t & Schema.STRING) != 0) {
          out.add(new Stack(new Str(sc, 0, 0, 0), below));
        }
      }
      case '-' -> {
        if (number) {
          out.add(new Stack(new Num(integer, MINUS, 0), below));
        }
      }
      case 't', 'f' -> {
        if ((t & Schema.BOOLEAN) != 0) {
          out.add(new Stack(new Lit(b == 't' ? TRUE : FALSE, 1), below));
        }
      }
      case 'n' -> {
        if ((t & Schema.NULL) != 0) {
          out.add(new Stack(new Lit(NULL, 1), below));
        }
      }
      default -> {
        if (number && b >= '0' && b <= '9') {
          out.add(new Stack(new Num(integer, b == '0' ? ZERO : INT, 1), below));
        }
      }
    }
  }

  private static boolean numberEnds(int phase) {
    return phase == ZERO || phase == INT || phase == FRAC || phase == EXP_DIGITS;
  }

  private static void number(Num n, int b, Stack below, List<Stack> out) {
    boolean digit = b >= '0' && b <= '9';
    boolean dot = b == '.' && !n.integer;
    boolean exp = (b == 'e' || b == 'E') && !n.integer;
    int next = switch (n.phase) {
      case MINUS -> b == '0' ? ZERO : digit ? INT : -1;
      case ZERO -> dot ? DOT : exp ? EXP : -1;
      case INT -> digit && n.digits < MAX_INT_DIGITS ? INT : dot ? DOT : exp ? EXP : -1;
      case DOT -> digit ? FRAC : -1;
      case FRAC -> digit && n.digits < MAX_FRACTION_DIGITS ? FRAC : exp ? EXP : -1;
      case EXP -> digit ? EXP_DIGITS : b == '+' || b == '-' ? EXP_SIGN : -1;
      default -> digit && n.digits < MAX_EXPONENT_DIGITS ? EXP_DIGITS : -1; // EXP_SIGN, EXP_DIGITS
    };
    if (next >= 0) {
      out.add(new Stack(new Num(n.integer, next, next == n.phase ? n.digits + 1 : digit ? 1 : 0), below));
    }
    if (numberEnds(n.phase)) {
      step(below, b, out); // the number ended: the byte is its container's
    }
  }

  /**
   * Inside a string. {@code escape}: 0 none, 1 after a backslash, 2..5 the hex digit of a
   * {@code \\u} escape to come (13: the second after a leading {@code d}, which must be 0-7 to
   * keep surrogates out).
   */
  private static void string(Str x, int b, Stack below, List<Stack> out) {
    Schema sc = x.schema;
    if (x.utf8 != 0) {
      int next = utf8Next(x.utf8, b);
      if (next >= 0) {
        out.add(new Stack(new Str(sc, x.length, 0, next), below));
      }
      return;
    }
    int escape = switch (x.escape) {
      case 0 -> -1;
      case 1 -> b == 'u' ? 2 : "\"\\/bfnrt".indexOf(b) >= 0 ? 0 : -2;
      case 2 -> b == 'd' || b == 'D' ? 13 : hex(b) ? 3 : -2;
      case 13 -> b >= '0' && b <= '7' ? 4 : -2;
      case 5 -> hex(b) ? 0 : -2;
      default -> hex(b) ? x.escape + 1 : -2; // 3, 4
    };
    if (escape >= 0) {
      out.add(new Stack(new Str(sc, x.length, escape, 0), below));
      return;
    }
    if (escape == -2) {
      return;
    }
    if (b == '"') {
      if (x.length >= sc.minLength) {
        out.add(below);
      }
      return;
    }
    if (b < 0x20 || x.length >= sc.maxLength) {
      return;
    }
    int length = x.length + 1;
    if (sc.maxLength == Integer.MAX_VALUE && length > sc.minLength) {
      length = sc.minLength; // past minLength an unbounded string's count no longer matters: equal states stay equal
    }
    if (b == '\\') {
      out.add(new Stack(new Str(sc, length, 1, 0), below));
      return;
    }
    int utf8 = utf8Next(0, b);
    if (utf8 >= 0) {
      out.add(new Stack(new Str(sc, length, 0, utf8), below));
    }
  }

  private static boolean hex(int b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
  }

  /**
   * UTF-8 well-formedness (Unicode table 3-7). {@code state}: 0 between characters, else
   * {@code need << 16 | lo << 8 | hi}, the continuation bytes still due and the range of the next
   * one. Returns the state after {@code b}, or -1 if {@code b} cannot come here.
   */
  static int utf8Next(int state, int b) {
    if (state != 0) {
      int need = state >>> 16;
      if (b < ((state >> 8) & 0xff) || b > (state & 0xff)) {
        return -1;
      }
      return need > 1 ? ((need - 1) << 16) | 0x80BF : 0;
    }
    if (b < 0x80) {
      return 0;
    }
    if (b >= 0xC2 && b <= 0xDF) {
      return 1 << 16 | 0x80BF;
    }
    if (b == 0xE0) {
      return 2 << 16 | 0xA0BF;
    }
    if (b == 0xED) {
      return 2 << 16 | 0x809F;
    }
    if (b >= 0xE1 && b <= 0xEF) {
      return 2 << 16 | 0x80BF;
    }
    if (b == 0xF0) {
      return 3 << 16 | 0x90BF;
    }
    if (b >= 0xF1 && b <= 0xF3) {
      return 3 << 16 | 0x80BF;
    }
    if (b == 0xF4) {
      return 3 << 16 | 0x808F;
    }
    return -1;
  }

  private static boolean canAddKey(Schema sc, long seen) {
    return sc.additional != null || (sc.allProperties() & ~seen) != 0;
  }

  private static void object(Obj o, int b, Stack below, List<Stack> out) {
    Schema sc = o.schema;
    if (o.phase != KEY && isWs(b)) {
      if (o.spaces < MAX_WS) {
        out.add(new Stack(new Obj(sc, o.seen, o.phase, o.spaces + 1, null, 0, false, o.value), below));
      }
      return;
    }
    switch (o.phase) {
      case OPEN, AFTER_VALUE -> {
        if (b == '}' && (o.seen & sc.required) == sc.required) {
          out.add(below);
        } else if (o.phase == OPEN && b == '"' && canAddKey(sc, o.seen)) {
          out.add(new Stack(new Obj(sc, o.seen, KEY, 0, sc.names.length == 0 ? FREE : new byte[0], 0, false, null), below));
        } else if (o.phase == AFTER_VALUE && b == ',' && canAddKey(sc, o.seen)) {
          out.add(new Stack(new Obj(sc, o.seen, BEFORE_KEY, 0, null, 0, false, null), below));
        }
      }
      case BEFORE_KEY -> {
        if (b == '"') {
          out.add(new Stack(new Obj(sc, o.seen, KEY, 0, sc.names.length == 0 ? FREE : new byte[0], 0, false, null), below));
        }
      }
      case COLON -> {
        if (b == ':') {
          out.add(new Stack(new Value(o.value, true, 0), new Stack(new Obj(sc, o.seen, AFTER_VALUE, 0, null, 0, false, null), below)));
        }
      }
      default -> key(o, b, below, out);
    }
  }

  /**
   * The key of an object that can no longer be a listed property (no listed name starts with it):
   * its bytes no longer matter, and sharing one marker keeps equal states equal.
   */
  private static final byte[] FREE = new byte[0];

  /**
   * Whether the next bytes of {@code s} are free text: inside a string with no length bound and
   * not mid-escape or mid-character, or inside an unlisted key. Any run of bytes that are not
   * {@code "}, {@code \} or control characters, in well-formed UTF-8, is then accepted, whatever
   * the frames below ({@link TokenVocabulary} uses it to skip most of the vocabulary's walk).
   */
  static boolean inFreeText(Stack[] states) {
    if (states.length != 1) {
      return false;
    }
    return switch (states[0].top) {
      case Str x -> x.escape == 0 && x.utf8 == 0 && x.schema.maxLength == Integer.MAX_VALUE;
      case Obj o -> o.phase == KEY && o.key == FREE && !o.escaped && o.utf8 == 0 && o.schema.additional != null;
      default -> false;
    };
  }

  /** Whether {@code bytes} are free text from the start of a character (see {@link #inFreeText}). */
  static boolean isFreeText(byte[] bytes) {
    int utf8 = 0;
    for (byte x : bytes) {
      int b = x & 0xff;
      if (utf8 == 0 && (b == '"' || b == '\\' || b < 0x20)) {
        return false;
      }
      utf8 = utf8Next(utf8, b);
      if (utf8 < 0) {
        return false;
      }
    }
    return true;
  }

  private static void key(Obj o, int b, Stack below, List<Stack> out) {
    Schema sc = o.schema;
    byte[] key = o.key;
    if (b == '"' && o.utf8 == 0 && !o.escaped) {
      boolean listed = false;
      for (int i = 0; i < sc.names.length && key != FREE; i++) {
        if (java.util.Arrays.equals(sc.names[i], key)) {
          listed = true;
          if ((o.seen & (1L << i)) == 0) {
            out.add(new Stack(new Obj(sc, o.seen | (1L << i), COLON, 0, null, 0, false, sc.properties[i]), below));
          }
        }
      }
      if (!listed && sc.additional != null) {
        out.add(new Stack(new Obj(sc, o.seen, COLON, 0, null, 0, false, sc.additional), below));
      }
      return;
    }
    boolean known = false; // the key may still become an unseen listed name
    boolean listed = false; // ... or any listed name (to refuse a second one at the closing quote)
    for (int i = 0; i < sc.names.length && !known && key != FREE; i++) {
      byte[] name = sc.names[i];
      boolean prefix = name.length > key.length && (name[key.length] & 0xff) == b
          && java.util.Arrays.equals(name, 0, key.length, key, 0, key.length);
      listed |= prefix;
      known = prefix && (o.seen & (1L << i)) == 0;
    }
    int utf8 = utf8Next(o.utf8, b);
    boolean free = sc.additional != null && b != '\\' && b != '"' && b >= 0x20 && utf8 >= 0;
    if (known || free) {
      byte[] next = FREE;
      if (listed) {
        next = java.util.Arrays.copyOf(key, key.length + 1);
        next[key.length] = (byte) b;
      }
      out.add(new Stack(new Obj(sc, o.seen, KEY, 0, next, Math.max(utf8, 0), b == '\\' && !o.escaped, null), below));
    }
  }

  private static void array(Arr a, int b, Stack below, List<Stack> out) {
    Schema sc = a.schema;
    if (isWs(b)) {
      if (a.spaces < MAX_WS) {
        out.add(new Stack(new Arr(sc, a.count, a.phase, a.spaces + 1), below));
      }
      return;
    }
    if (b == ']' && a.count >= sc.minItems) {
      out.add(below);
    } else if (a.phase == OPEN) {
      if (sc.maxItems > 0) {
        start(sc.items, b, new Stack(new Arr(sc, 1, AFTER_VALUE, 0), below), out, 0);
      }
    } else if (b == ',' && a.count < sc.maxItems) {
      out.add(new Stack(new Value(sc.items, true, 0), new Stack(new Arr(sc, a.count + 1, AFTER_VALUE, 0), below)));
    }
  }
}
