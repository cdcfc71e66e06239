package dev.art4j.rollout.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * Hermes-style calls as Qwen2.5 and Qwen3 write them:
 * <pre>
 * &lt;think&gt;reasoning&lt;/think&gt;
 * text
 * &lt;tool_call&gt;
 * {"name": "add", "arguments": {"a": 1, "b": 2}}
 * &lt;/tool_call&gt;
 * &lt;tool_call&gt;...&lt;/tool_call&gt;
 * </pre>
 * The reasoning is split as the Qwen3 template splits it (before {@code </think>}, newlines
 * stripped). A {@code <tool_call>} cut off before its closing tag is still read.
 */
final class HermesToolCallParser implements ToolCallParser {

  static final String OPEN = "<tool_call>";
  static final String CLOSE = "</tool_call>";
  private static final String FORMAT = "<tool_call>{\"name\": \"<tool name>\", \"arguments\": {...}}</tool_call>";

  @Override
  public ParsedReply parse(String text, String idPrefix) {
    String reasoning = null;
    String rest = text;
    int endThink = rest.indexOf("</think>");
    if (endThink >= 0) {
      String before = rest.substring(0, endThink);
      int open = before.lastIndexOf("<think>");
      reasoning = strip(open >= 0 ? before.substring(open + "<think>".length()) : before, '\n');
      rest = stripLeading(rest.substring(endThink + "</think>".length()), '\n');
    } else if (rest.stripLeading().startsWith("<think>")) {
      // cut off while thinking: all of it is reasoning
      reasoning = strip(rest.stripLeading().substring("<think>".length()), '\n');
      rest = "";
    }

    StringBuilder content = new StringBuilder();
    List<ParsedCall> calls = new ArrayList<>();
    int pos = 0;
    while (true) {
      int open = rest.indexOf(OPEN, pos);
      if (open < 0) {
        content.append(rest, pos, rest.length());
        break;
      }
      content.append(rest, pos, open);
      int bodyStart = open + OPEN.length();
      int close = rest.indexOf(CLOSE, bodyStart);
      int nextOpen = rest.indexOf(OPEN, bodyStart);
      String id = idPrefix + calls.size();
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        int end = nextOpen >= 0 ? nextOpen : rest.length();
        ParsedCall call = CallJson.read(rest.substring(bodyStart, end), id, FORMAT);
        calls.add(call.isOk()
            ? call.withProblem("Error: the tool call has no closing " + CLOSE + " tag. Write the call as " + FORMAT + ".")
            : call);
        pos = end;
        continue;
      }
      calls.add(CallJson.read(rest.substring(bodyStart, close), id, FORMAT));
      pos = close + CLOSE.length();
    }
    return new ParsedReply(content.toString().strip(), reasoning, calls);
  }

  @Override
  public String forcedCallPrefix(String toolName) {
    return toolName == null ? OPEN + "\n{\"name\": \"" : OPEN + "\n{\"name\": \"" + toolName + "\", \"arguments\": ";
  }

  @Override
  public String forcedCallSuffix() {
    return "}\n" + CLOSE;
  }

  static String strip(String s, char c) {
    return stripTrailing(stripLeading(s, c), c);
  }

  static String stripLeading(String s, char c) {
    int i = 0;
    while (i < s.length() && s.charAt(i) == c) {
      i++;
    }
    return s.substring(i);
  }

  static String stripTrailing(String s, char c) {
    int j = s.length();
    while (j > 0 && s.charAt(j - 1) == c) {
      j--;
    }
    return s.substring(0, j);
  }
}
