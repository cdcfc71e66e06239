package dev.art4j.examples.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.mcp.math.MathServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java loop is {@link LibraryLoop}: it runs on the tiny chat fixture against the
 * bundled math MCP server (steps logged, checkpoints written, a second call resumes), and the
 * README quotes its lines exactly.
 */
class LibraryLoopTest {

  private static final Path SOURCE = Path.of("src/main/java/dev/art4j/examples/loop/LibraryLoop.java");
  private static final Path README = Path.of("../README.md");

  @Test
  void theLoopTrainsChecksPointsAndResumes(@TempDir Path runs) throws Exception {
    Path model = Path.of(System.getProperty("art4j.fixtures")).resolve("models/tiny-chat");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> server = List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), MathServer.class.getName());

    List<String> first = lines(out -> LibraryLoop.run(model, server, runs, 2, out));
    assertEquals(List.of("1", "2"), stepsOf(first), String.join("\n", first));
    Path store = runs.resolve("math/models/agent-001");
    assertTrue(Files.isRegularFile(store.resolve("checkpoints/2/adapter_model.safetensors")), "checkpoint of step 2");
    assertEquals(2, Files.readAllLines(store.resolve("history.jsonl")).size());

    List<String> resumed = lines(out -> LibraryLoop.run(model, server, runs, 3, out));
    assertEquals(List.of("3"), stepsOf(resumed), "the second call resumes after the last checkpoint: " + resumed);
    assertEquals(3, Files.readAllLines(store.resolve("history.jsonl")).size());
  }

  @Test
  void theReadmeQuotesTheCompiledLoop() throws Exception {
    Matcher code = Pattern.compile("// README:begin\n(.*?)\n\\s*// README:end", Pattern.DOTALL)
        .matcher(Files.readString(SOURCE));
    assertTrue(code.find(), "markers in " + SOURCE);
    String compiled = code.group(1).lines().map(l -> l.startsWith("    ") ? l.substring(4) : l)
        .collect(Collectors.joining("\n"));
    String readme = Files.readString(README);
    assertTrue(readme.contains("```java\n" + compiled + "\n```"),
        "README.md's loop differs from LibraryLoop's lines between the markers; paste them:\n" + compiled);
  }

  private interface Run {
    void run(PrintStream out) throws Exception;
  }

  private static List<String> lines(Run run) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      run.run(out);
    }
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static List<String> stepsOf(List<String> lines) {
    return lines.stream().map(l -> l.split(" ", 2)[0]).toList();
  }
}
