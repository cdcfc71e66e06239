package dev.art4j.otel;

import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/**
 * Attribute names: the OpenTelemetry GenAI semantic conventions ({@code gen_ai.*},
 * {@code error.type}) where they have one, {@code art4j.*} for what they do not name
 * (training step, group, reward, the MCP server of a tool).
 */
final class GenAi {

  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<Double> REQUEST_TEMPERATURE = AttributeKey.doubleKey("gen_ai.request.temperature");
  static final AttributeKey<Long> REQUEST_MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<String> TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
  static final AttributeKey<String> TOOL_TYPE = AttributeKey.stringKey("gen_ai.tool.type");
  static final AttributeKey<String> MCP_METHOD = AttributeKey.stringKey("mcp.method.name");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  static final AttributeKey<String> MCP_SERVER = AttributeKey.stringKey("art4j.mcp.server");
  static final AttributeKey<String> SPLIT = AttributeKey.stringKey("art4j.split");
  static final AttributeKey<Long> STEP = AttributeKey.longKey("art4j.step");
  static final AttributeKey<Long> GROUP = AttributeKey.longKey("art4j.group");
  static final AttributeKey<Double> REWARD = AttributeKey.doubleKey("art4j.reward");
  static final AttributeKey<Long> TOOL_CALLS = AttributeKey.longKey("art4j.tool_calls");
  static final AttributeKey<Long> TOOL_ERRORS = AttributeKey.longKey("art4j.tool_errors");
  static final AttributeKey<String> FINISH_REASON = AttributeKey.stringKey("art4j.finish_reason");
  static final String METRIC_PREFIX = "art4j.metric.";

  private GenAi() {}
}
