package dev.art4j.mcp.toolset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.ToolResult;
import dev.art4j.core.chat.ToolSpec;
import org.junit.jupiter.api.Test;

/**
 * A real stdio MCP server whose tool schema uses {@code $ref}/{@code $defs}, {@code anyOf} and
 * {@code oneOf}: the model is shown the schema exactly as sent, and calls are checked against it
 * with the references resolved.
 */
class RefSchemaTest {

  @Test
  void schemasWithReferencesAreKeptAndResolved() throws Exception {
    try (McpToolset tools = McpToolset.builder().stdio("pydantic", PydanticSchemaServer.command()).build()) {
      ToolSpec spec = tools.tools().get(0);
      assertEquals("shift_point", spec.name());
      assertEquals(new ObjectMapper().readTree(PydanticSchemaServer.SCHEMA), spec.parameters());

      assertEquals(ToolResult.ok("5"), tools.call("shift_point", "{\"p\": {\"x\": 2, \"y\": 3}}"));
      assertEquals(ToolResult.ok("6.5"), tools.call("shift_point", "{\"p\": {\"x\": 2, \"y\": 3}, \"by\": 1.5, \"mode\": 2}"));
      assertEquals(ToolResult.ok("5"), tools.call("shift_point", "{\"p\": {\"x\": 2, \"y\": 3}, \"by\": null, \"mode\": \"sum\"}"));

      ToolResult bad = tools.call("shift_point", "{\"p\": {\"x\": \"two\"}, \"mode\": \"max\"}");
      assertTrue(bad.isError(), bad.text());
      assertTrue(bad.text().contains("missing required field `p.y`")
          && bad.text().contains("field `p.x` must be a number, got string \"two\"")
          && bad.text().contains("field `mode` matches none of the allowed forms"), bad.text());
    }
  }
}
