package dev.art4j.mcp.math;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema.ServerCapabilities;
import java.io.PrintStream;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bundled math MCP server, built with the official MCP Java SDK: tools {@code add},
 * {@code subtract}, {@code multiply}, {@code division}, {@code modulo}, {@code power},
 * {@code sqrt}, {@code factorial}, {@code round}, {@code average}, {@code percentage}; the
 * resource {@code math://constants}; the prompt {@code solve_word_problem}.
 *
 * <p>Two transports: stdio ({@link #serveStdio}, what {@link #main} does by default; stdout
 * carries the protocol only, logs go to stderr) and streamable HTTP on 127.0.0.1
 * ({@link #startHttp}, endpoint {@code /mcp}, hosted by Jetty).
 *
 * <pre>
 * java -cp ... dev.art4j.mcp.math.MathServer [--http PORT] [--test-tools]
 * </pre>
 * {@code --test-tools} adds a {@code sleep(seconds)} tool, for time-out tests.
 */
public final class MathServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MathServer.class);
  /** Name the server reports in its {@code initialize} answer. */
  public static final String NAME = "art4j-math";

  private final Server jetty;
  private final McpSyncServer mcp;
  private final HttpServletStreamableServerTransportProvider transport;
  private final int port;

  private MathServer(Server jetty, McpSyncServer mcp, HttpServletStreamableServerTransportProvider transport, int port) {
    this.jetty = jetty;
    this.mcp = mcp;
    this.transport = transport;
    this.port = port;
  }

  public static void main(String[] args) throws Exception {
    int httpPort = -1;
    boolean testTools = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--http" -> httpPort = Integer.parseInt(args[++i]);
        case "--test-tools" -> testTools = true;
        default -> {
          System.err.println("usage: MathServer [--http PORT] [--test-tools]; unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    if (httpPort >= 0) {
      try (MathServer server = startHttp(httpPort, testTools)) {
        System.err.println("art4j math MCP server listening on " + server.url());
        server.jetty.join();
      }
    } else {
      serveStdio(testTools);
      System.exit(0);
    }
  }

  /**
   * Serves MCP over this process's stdin/stdout until stdin closes. {@code System.out} is
   * redirected to stderr first, so that nothing but protocol messages can reach stdout.
   */
  public static void serveStdio(boolean testTools) throws InterruptedException {
    PrintStream protocolOut = System.out;
    System.setOut(System.err);
    PendingRequests pending = new PendingRequests(65_000);
    McpJsonMapper json = McpJsonDefaults.getMapper();
    McpSyncServer server = build(McpServer.sync(new SerializedStdioProvider(new StdioServerTransportProvider(json,
        pending.watch(System.in), pending.watch(protocolOut)))), testTools);
    log.info("art4j math MCP server on stdio ({} tools)", server.listTools().size());
    // requests read before the end of input get their answers first (a sleep takes at most 60 s)
    pending.awaitEnd();
    log.info("stdin closed, stopping");
    server.close();
  }

  /** Starts the server over streamable HTTP on 127.0.0.1; port 0 picks a free port. */
  public static MathServer startHttp(int port, boolean testTools) throws Exception {
    HttpServletStreamableServerTransportProvider transport = HttpServletStreamableServerTransportProvider.builder()
        .jsonMapper(McpJsonDefaults.getMapper()).mcpEndpoint("/mcp")
        // no idle-session sweeper: SDK 2.1.0 never disposes its scheduler, a non-daemon thread
        // that keeps the JVM alive after close(); sessions end when clients close them
        .sessionSweepInterval(null)
        .build();
    McpSyncServer mcp = build(McpServer.sync(transport), testTools);
    Server jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    context.addServlet(new ServletHolder(transport), "/*");
    jetty.setHandler(context);
    jetty.start();
    return new MathServer(jetty, mcp, transport, connector.getLocalPort());
  }

  private static McpSyncServer build(McpServer.SyncSpecification<?> spec, boolean testTools) {
    return spec.serverInfo(NAME, "0.1.0")
        .capabilities(ServerCapabilities.builder().tools(false).resources(false, false).prompts(false).build())
        .tools(MathTools.tools(testTools))
        .resources(MathTools.constants())
        .prompts(MathTools.wordProblemPrompt())
        .build();
  }

  /** The port the HTTP server listens on. */
  public int port() {
    return port;
  }

  /** The streamable HTTP endpoint, {@code http://127.0.0.1:PORT/mcp}. */
  public String url() {
    return "http://127.0.0.1:" + port + "/mcp";
  }

  @Override
  public void close() {
    try {
      mcp.close();
      transport.closeGracefully().block(java.time.Duration.ofSeconds(5));
      jetty.stop();
    } catch (Exception e) {
      log.warn("stopping the math server: {}", e.toString());
    }
  }
}
