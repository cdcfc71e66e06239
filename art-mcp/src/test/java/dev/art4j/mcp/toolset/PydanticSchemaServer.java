package dev.art4j.mcp.toolset;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ServerCapabilities;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stdio MCP server (official MCP Java SDK) with one tool whose input schema is what a
 * Pydantic-based server emits: {@code $defs} with {@code $ref}s, {@code anyOf} with null and
 * {@code oneOf}. {@code shift_point(p: Point, by: float | None, mode: "sum" | int)} answers
 * {@code p.x + p.y (+ by)}.
 */
public final class PydanticSchemaServer {

  /** The tool's input schema, as sent. */
  public static final String SCHEMA = """
      {"$defs": {"Point": {"properties": {"x": {"title": "X", "type": "number"}, "y": {"title": "Y", "type": "number"}},
                           "required": ["x", "y"], "title": "Point", "type": "object"}},
       "properties": {"p": {"$ref": "#/$defs/Point"},
                      "by": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": null, "title": "By"},
                      "mode": {"oneOf": [{"const": "sum"}, {"type": "integer"}], "default": "sum", "title": "Mode"}},
       "required": ["p"], "title": "shift_pointArguments", "type": "object"}""";

  private PydanticSchemaServer() {}

  public static void main(String[] args) throws Exception {
    PrintStream protocolOut = System.out;
    System.setOut(System.err);
    McpJsonMapper json = McpJsonDefaults.getMapper();
    Tool tool = Tool.builder("shift_point", json, SCHEMA).description("Adds a point's coordinates, plus `by`.").build();
    SyncToolSpecification spec = new SyncToolSpecification(tool, (exchange, request) -> {
      Map<String, Object> a = request.arguments();
      Map<?, ?> p = (Map<?, ?>) a.get("p");
      double sum = ((Number) p.get("x")).doubleValue() + ((Number) p.get("y")).doubleValue()
          + (a.get("by") instanceof Number n ? n.doubleValue() : 0);
      return CallToolResult.builder().addTextContent(sum == Math.rint(sum) ? Long.toString((long) sum) : Double.toString(sum))
          .isError(false).build();
    });
    McpSyncServer server = McpServer.sync(new StdioServerTransportProvider(json, System.in, protocolOut))
        .serverInfo("pydantic-like", "0.1.0")
        .capabilities(ServerCapabilities.builder().tools(false).build())
        .tools(List.of(spec))
        .build();
    // the transport reads stdin on its own threads; stay up until the client closes it
    Object forever = new Object();
    synchronized (forever) {
      forever.wait();
    }
    server.close();
  }

  /** The command that starts this server on this test JVM's class path. */
  public static List<String> command() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), PydanticSchemaServer.class.getName());
  }
}
