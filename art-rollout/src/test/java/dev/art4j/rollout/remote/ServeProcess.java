package dev.art4j.rollout.remote;

import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.server.OpenAiServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code art4j serve} on the tiny-chat fixture in a child JVM, for tests that kill a server:
 * prints {@code PORT <n>} on stdout once it listens, and exits when its stdin closes (so a test
 * that dies leaves no server behind).
 */
public final class ServeProcess {

  private ServeProcess() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    try (TestKit.TinyChat tiny = TestKit.TinyChat.load(5);
         OpenAiServer server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(port).modelName("tiny-chat").start()) {
      System.out.println("PORT " + server.port());
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to close our stdin
      }
    }
  }

  /** Starts one; returns once it listens. */
  static Started start(int port, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector",
        "-Dart4j.fixtures=" + TestKit.tinyChat().getParent().getParent().toAbsolutePath(),
        "-cp", System.getProperty("java.class.path"), ServeProcess.class.getName(), Integer.toString(port)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
    String line = out.readLine();
    if (line == null || !line.startsWith("PORT ")) {
      p.destroyForcibly();
      throw new IllegalStateException("the child server did not start (see " + log + "): " + line);
    }
    return new Started(p, Integer.parseInt(line.substring(5).trim()));
  }

  record Started(Process process, int port) {
    java.net.URI url() {
      return java.net.URI.create("http://127.0.0.1:" + port);
    }
  }
}
