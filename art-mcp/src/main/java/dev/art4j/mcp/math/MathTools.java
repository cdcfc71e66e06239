package dev.art4j.mcp.math;

import io.modelcontextprotocol.server.McpServerFeatures.SyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.GetPromptResult;
import io.modelcontextprotocol.spec.McpSchema.Prompt;
import io.modelcontextprotocol.spec.McpSchema.PromptArgument;
import io.modelcontextprotocol.spec.McpSchema.PromptMessage;
import io.modelcontextprotocol.spec.McpSchema.ReadResourceResult;
import io.modelcontextprotocol.spec.McpSchema.Resource;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.modelcontextprotocol.spec.McpSchema.TextResourceContents;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The tools, resource and prompt of the bundled math server. Arguments arrive as the JSON the
 * client sent (numbers as Integer, Long or Double); a bad value answers an error result whose
 * text names the argument, as a model would need to correct itself.
 */
final class MathTools {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MathTools.class);

  static final String CONSTANTS_URI = "math://constants";

  private MathTools() {}

  /** The arithmetic and other maths tools; {@code testTools} adds {@code sleep} for time-out tests. */
  static List<SyncToolSpecification> tools(boolean testTools) {
    List<SyncToolSpecification> tools = new ArrayList<>();
    tools.add(binary("add", "Add two numbers: a + b.", (a, b) -> a + b));
    tools.add(binary("subtract", "Subtract b from a: a - b.", (a, b) -> a - b));
    tools.add(binary("multiply", "Multiply two numbers: a * b.", (a, b) -> a * b));
    tools.add(binary("division", "Divide a by b: a / b. b must not be zero.", (a, b) -> {
      if (b == 0) {
        throw new ArithmeticException("Division by zero: argument `b` must not be 0.");
      }
      return a / b;
    }));
    tools.add(binary("modulo", "Remainder of a divided by b (a mod b), with the sign of a.", (a, b) -> {
      if (b == 0) {
        throw new ArithmeticException("Modulo by zero: argument `b` must not be 0.");
      }
      return a % b;
    }));
    tools.add(tool("power", "Raise base to the power exponent: base ^ exponent.",
        schema(Map.of("base", number("the base"), "exponent", number("the exponent")), "base", "exponent"),
        args -> format(Math.pow(num(args, "base"), num(args, "exponent")))));
    tools.add(tool("sqrt", "Square root of x. x must not be negative.",
        schema(Map.of("x", number("a non-negative number")), "x"),
        args -> {
          double x = num(args, "x");
          if (x < 0) {
            throw new ArithmeticException("Square root of a negative number: argument `x` is " + format(x) + ".");
          }
          return format(Math.sqrt(x));
        }));
    tools.add(tool("factorial", "Factorial n! of a whole number n between 0 and 1000.",
        schema(Map.of("n", Map.of("type", "integer", "description", "0 <= n <= 1000")), "n"),
        args -> {
          double n = num(args, "n");
          if (n != Math.rint(n) || n < 0 || n > 1000) {
            throw new IllegalArgumentException("Argument `n` must be a whole number between 0 and 1000, got " + format(n) + ".");
          }
          BigInteger f = BigInteger.ONE;
          for (int i = 2; i <= (int) n; i++) {
            f = f.multiply(BigInteger.valueOf(i));
          }
          return f.toString();
        }));
    tools.add(tool("round", "Round x to the given number of decimal places (half up).",
        schema(Map.of("x", number("the number to round"),
            "decimals", Map.of("type", "integer", "description", "decimal places, 0 to 15")), "x", "decimals"),
        args -> {
          double decimals = num(args, "decimals");
          if (decimals != Math.rint(decimals) || decimals < 0 || decimals > 15) {
            throw new IllegalArgumentException("Argument `decimals` must be a whole number between 0 and 15.");
          }
          return new BigDecimal(Double.toString(num(args, "x")))
              .setScale((int) decimals, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
        }));
    tools.add(tool("average", "Arithmetic mean of a list of numbers.",
        schema(Map.of("numbers", Map.of("type", "array", "items", Map.of("type", "number"),
            "description", "at least one number")), "numbers"),
        args -> {
          List<Double> xs = numbers(args, "numbers");
          return format(xs.stream().mapToDouble(Double::doubleValue).sum() / xs.size());
        }));
    tools.add(tool("percentage", "What is `percent` percent of `value`: value * percent / 100.",
        schema(Map.of("value", number("the whole"), "percent", number("the percentage, e.g. 15 for 15%")),
            "value", "percent"),
        args -> format(num(args, "value") * num(args, "percent") / 100)));
    if (testTools) {
      tools.add(tool("sleep", "Wait for the given number of seconds, then answer. For time-out tests.",
          schema(Map.of("seconds", number("how long to wait, at most 60")), "seconds"),
          args -> {
            double seconds = Math.min(60, num(args, "seconds"));
            // on stderr, so that tests can see the call has arrived
            log.info("sleep: {} s", format(seconds));
            try {
              Thread.sleep((long) (seconds * 1000));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return "slept " + format(seconds) + " s";
          }));
    }
    return tools;
  }

  /** {@value #CONSTANTS_URI}: mathematical constants as JSON. */
  static SyncResourceSpecification constants() {
    Resource resource = Resource.builder(CONSTANTS_URI, "constants")
        .description("Mathematical constants (pi, e, golden ratio, sqrt 2) as JSON.")
        .mimeType("application/json").build();
    String json = "{\"pi\": " + Math.PI + ", \"e\": " + Math.E + ", \"phi\": " + (1 + Math.sqrt(5)) / 2
        + ", \"sqrt2\": " + Math.sqrt(2) + "}";
    return new SyncResourceSpecification(resource, (exchange, request) ->
        ReadResourceResult.builder(List.of(TextResourceContents.builder(CONSTANTS_URI, json).mimeType("application/json").build()))
            .build());
  }

  /** {@code solve_word_problem}: a user message asking to solve a problem step by step with the tools. */
  static SyncPromptSpecification wordProblemPrompt() {
    Prompt prompt = Prompt.builder("solve_word_problem")
        .description("Ask to solve a word problem step by step with the math tools.")
        .arguments(List.of(PromptArgument.builder("problem").description("the word problem").required(true).build()))
        .build();
    return new SyncPromptSpecification(prompt, (exchange, request) -> {
      Object problem = request.arguments() == null ? null : request.arguments().get("problem");
      String text = "Solve this problem step by step. Use the math tools for every calculation "
          + "and finish with the final answer on its own line.\n\n" + (problem == null ? "" : problem);
      return GetPromptResult.builder(List.of(PromptMessage.builder(McpSchema.Role.USER, TextContent.builder(text).build()).build()))
          .description("word problem").build();
    });
  }

  private interface Op {
    double apply(double a, double b);
  }

  private static SyncToolSpecification binary(String name, String description, Op op) {
    return tool(name, description,
        schema(Map.of("a", number("first operand"), "b", number("second operand")), "a", "b"),
        args -> format(op.apply(num(args, "a"), num(args, "b"))));
  }

  private static SyncToolSpecification tool(String name, String description, Map<String, Object> inputSchema,
      Function<Map<String, Object>, String> body) {
    Tool tool = Tool.builder(name, inputSchema).description(description).build();
    return new SyncToolSpecification(tool, (exchange, request) -> {
      Map<String, Object> args = request.arguments() == null ? Map.of() : request.arguments();
      try {
        return CallToolResult.builder().addTextContent(body.apply(args)).isError(false).build();
      } catch (RuntimeException e) {
        return CallToolResult.builder().addTextContent(e.getMessage()).isError(true).build();
      }
    });
  }

  private static Map<String, Object> schema(Map<String, Object> properties, String... required) {
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("type", "object");
    // sorted so that the listing is stable whatever Map.of's order
    schema.put("properties", new java.util.TreeMap<>(properties));
    schema.put("required", List.of(required));
    schema.put("additionalProperties", false);
    return schema;
  }

  private static Map<String, Object> number(String description) {
    return Map.of("type", "number", "description", description);
  }

  private static double num(Map<String, Object> args, String name) {
    Object v = args.get(name);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("Argument `" + name + "` must be a number, got " + (v == null ? "nothing" : v) + ".");
  }

  private static List<Double> numbers(Map<String, Object> args, String name) {
    if (!(args.get(name) instanceof List<?> list) || list.isEmpty()) {
      throw new IllegalArgumentException("Argument `" + name + "` must be a non-empty array of numbers.");
    }
    List<Double> xs = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof Number n)) {
        throw new IllegalArgumentException("Argument `" + name + "` must contain only numbers, got " + o + ".");
      }
      xs.add(n.doubleValue());
    }
    return xs;
  }

  /** Whole results print without a fraction ({@code 12}, not {@code 12.0}); others as the shortest exact double. */
  static String format(double x) {
    if (Double.isNaN(x) || Double.isInfinite(x)) {
      throw new ArithmeticException("The result is not a finite number.");
    }
    if (x == Math.rint(x) && Math.abs(x) < 1e15) {
      return Long.toString((long) x);
    }
    return new BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
  }
}
