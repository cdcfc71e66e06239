package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.art4j.mcp.math.MathServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** How the tests start real MCP servers: the bundled one as a child JVM, the npm ones from node_modules. */
public final class TestServers {

  private TestServers() {}

  /** The bundled math server as a stdio subprocess on this test JVM's classpath. */
  public static List<String> mathServerCommand(boolean testTools) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return testTools
        ? List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), MathServer.class.getName(), "--test-tools")
        : List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), MathServer.class.getName());
  }

  /** A bin script of an npm package; skips the test when the npm assets are missing outside CI. */
  public static Path npmBin(String name) {
    String dir = System.getProperty("art4j.nodeModules", "node_modules");
    Path bin = Path.of(dir, ".bin", name);
    if (System.getenv("CI") == null) {
      assumeTrue(Files.isExecutable(bin), "npm asset missing: " + bin);
    }
    return bin;
  }
}
