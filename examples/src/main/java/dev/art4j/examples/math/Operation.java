package dev.art4j.examples.math;

import java.math.BigDecimal;
import java.util.List;

/** The four arithmetic operations of the math task, each answered by the math MCP server's tool of that name. */
public enum Operation {
  ADD("add", "+", List.of("What is {a} plus {b}?", "Add {a} and {b}.", "What is the sum of {a} and {b}?",
      "Compute {a} + {b}.", "How much is {a} plus {b}?")),
  SUBTRACT("subtract", "-", List.of("What is {a} minus {b}?", "Compute {a} - {b}.",
      "What is the difference of {a} and {b}?", "How much is {a} minus {b}?", "Take {a} minus {b}.")),
  MULTIPLY("multiply", "*", List.of("What is {a} times {b}?", "Multiply {a} by {b}.", "What is the product of {a} and {b}?",
      "Compute {a} * {b}.", "How much is {a} times {b}?")),
  DIVISION("division", "/", List.of("What is {a} divided by {b}?", "Divide {a} by {b}.",
      "What is the quotient of {a} and {b}?", "Compute {a} / {b}.", "How much is {a} divided by {b}?"));

  private final String tool;
  private final String symbol;
  private final List<String> phrasings;

  Operation(String tool, String symbol, List<String> phrasings) {
    this.tool = tool;
    this.symbol = symbol;
    this.phrasings = phrasings;
  }

  /** The operator sign ({@code + - * /}). */
  public String symbol() {
    return symbol;
  }

  /** The math MCP server's tool that computes this operation. */
  public String tool() {
    return tool;
  }

  /** Question templates with {@code {a}} and {@code {b}} in reading order. */
  public List<String> phrasings() {
    return phrasings;
  }

  /** The result, as a double (division may have a fraction). */
  public double apply(long a, long b) {
    return switch (this) {
      case ADD -> a + b;
      case SUBTRACT -> a - b;
      case MULTIPLY -> (double) a * b;
      case DIVISION -> (double) a / b;
    };
  }

  /** The operation whose tool is {@code name}, or null. */
  public static Operation ofTool(String name) {
    for (Operation o : values()) {
      if (o.tool.equals(name)) {
        return o;
      }
    }
    return null;
  }

  /**
   * A number as the math MCP server prints it: whole numbers without a fraction ({@code 12}),
   * others as the shortest exact decimal of the double ({@code 3.0833333333333335}).
   */
  public static String format(double x) {
    if (x == Math.rint(x) && Math.abs(x) < 1e15) {
      return Long.toString((long) x);
    }
    return new BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
  }
}
