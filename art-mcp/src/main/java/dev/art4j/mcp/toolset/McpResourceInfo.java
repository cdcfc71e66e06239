package dev.art4j.mcp.toolset;

/**
 * A resource an MCP server offers (a document, a table of constants, ...), as listed by
 * {@code resources/list}; scenario synthesis shows these to the task-writing model.
 *
 * @param server      name of the server that offers it
 * @param uri         the resource's URI, e.g. {@code math://constants}
 * @param name        short name
 * @param description what it holds ("" when the server gave none)
 * @param mimeType    its MIME type ("" when unknown)
 */
public record McpResourceInfo(String server, String uri, String name, String description, String mimeType) {
  public McpResourceInfo {
    description = description == null ? "" : description;
    mimeType = mimeType == null ? "" : mimeType;
    name = name == null ? uri : name;
  }
}
