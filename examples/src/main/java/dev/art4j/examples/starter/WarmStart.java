package dev.art4j.examples.starter;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import java.nio.file.Path;
import java.util.List;

/**
 * The SFT warm start of a starter: teaches the random model the format (one tool call, then the
 * tool's result as the answer) on the spec's demonstrations, and replaces {@code model.safetensors}
 * with the result.
 */
final class WarmStart {

  private WarmStart() {}

  /** Runs the warm start in {@code dir}; returns its figures for {@code starter.json}. */
  static ObjectNode run(StarterSpec spec, List<List<Message>> demos, Path dir) {
    // TODO(train): SftTrainer has not landed yet; the starter is the random base until it does.
    ObjectNode info = JsonNodeFactory.instance.objectNode();
    info.put("status", "skipped: SftTrainer not available in this build");
    info.put("steps", 0);
    return info;
  }
}
