package dev.art4j.examples.starter;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import java.util.List;

/** Diagnostic access to the compact rendering (generation prompt). */
public final class CompactChatMlAccess {
  private CompactChatMlAccess() {}

  public static String render(List<Message> m, List<ToolSpec> tools) {
    return CompactChatMl.render(m, tools, true);
  }
}
