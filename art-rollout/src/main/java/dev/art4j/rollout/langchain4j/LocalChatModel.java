package dev.art4j.rollout.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.agent.ToolChoice;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.TokenVocabulary;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The local policy as a langchain4j {@link ChatModel}: AiServices, tool providers (including
 * langchain4j-mcp's {@code McpToolProvider}) and any langchain4j agent code drive it, and every
 * conversation is still recorded token-in/token-out for training (see {@link ChatCompletions}).
 *
 * <pre>{@code
 * LocalChatModel model = LocalChatModel.builder(engine, ChatFormat.load(dir)).build();
 * Assistant a = AiServices.builder(Assistant.class).chatModel(model).tools(new Calculator()).build();
 * a.chat("What is 2+3?");
 * Trajectory t = model.drainTrajectories().get(0);   // tokens, mask, log-probs for the trainer
 * }</pre>
 *
 * Request parameters map onto {@link SamplingParams}: temperature, top-p, top-k,
 * max output tokens, stop sequences; {@code toolChoice} REQUIRED forces a call whose arguments
 * validate against the tool's schema, and a JSON {@code responseFormat} (with or without a schema)
 * constrains the reply to JSON (constrained decoding, {@link JsonConstraint}; a schema outside its
 * subset is an {@link IllegalArgumentException} naming the field). Thread-safe.
 */
public final class LocalChatModel implements ChatModel {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ChatCompletions completions;
  private final SamplingParams defaults;
  private final String modelName;

  private LocalChatModel(Builder b) {
    this.completions = new ChatCompletions(b.source, b.format, b.capacity);
    this.defaults = b.sampling;
    this.modelName = b.modelName;
  }

  public static Builder builder(CompletionSource source, ChatFormat format) {
    return new Builder(source, format);
  }

  @Override
  public ChatResponse doChat(ChatRequest request) {
    ChatRequestParameters p = request.parameters();
    SamplingParams.Builder s = defaults.toBuilder();
    if (p.temperature() != null) {
      s.temperature(p.temperature());
    }
    if (p.topP() != null) {
      s.topP(p.topP());
    }
    if (p.topK() != null) {
      s.topK(p.topK());
    }
    if (p.maxOutputTokens() != null) {
      s.maxNewTokens(p.maxOutputTokens());
    }
    if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
      s.stopStrings(p.stopSequences());
    }
    List<ToolSpec> tools = p.toolSpecifications() == null ? List.of() : p.toolSpecifications().stream().map(LocalChatModel::toolSpec).toList();
    ToolChoice choice = p.toolChoice() == null ? ToolChoice.AUTO : switch (p.toolChoice()) {
      case AUTO -> ToolChoice.AUTO;
      case NONE -> ToolChoice.NONE;
      case REQUIRED -> ToolChoice.REQUIRED;
    };
    ResponseFormat format = p.responseFormat();
    if (format != null && format.type() == ResponseFormatType.JSON && choice != ToolChoice.REQUIRED) {
      // JSON mode by constrained decoding: any object, or the schema (a subset: see JsonConstraint)
      // strict, as langchain4j's OpenAI model sends it with strictJsonSchema: objects get additionalProperties false
      JsonNode schema = format.jsonSchema() == null || format.jsonSchema().rootElement() == null ? null
          : JSON.valueToTree(JsonSchemaElementUtils.toMap(format.jsonSchema().rootElement(), true));
      TokenVocabulary vocabulary = TokenVocabulary.of(completions.format().tokenizer());
      s.constraint(schema == null ? JsonConstraint.anyObject(vocabulary) : JsonConstraint.schema(vocabulary, schema));
    }
    List<Message> messages = request.messages().stream().map(LocalChatModel::message).toList();
    ChatCompletions.Choice c;
    try {
      c = completions.complete(messages, tools, s.build(), choice, 1).get(0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the local model was sampling", e);
    }
    List<ToolExecutionRequest> calls = new ArrayList<>();
    for (ToolCall call : c.message().toolCalls()) {
      calls.add(ToolExecutionRequest.builder().id(call.id()).name(call.name()).arguments(call.argumentsJson()).build());
    }
    AiMessage.Builder ai = AiMessage.builder();
    if (!c.message().content().isEmpty() || calls.isEmpty()) {
      ai.text(c.message().content());
    }
    if (c.message().reasoningContent() != null) {
      ai.thinking(c.message().reasoningContent());
    }
    if (!calls.isEmpty()) {
      ai.toolExecutionRequests(calls);
    }
    FinishReason finish = switch (c.finishReason()) {
      case "tool_calls" -> FinishReason.TOOL_EXECUTION;
      case "length" -> FinishReason.LENGTH;
      default -> FinishReason.STOP;
    };
    return ChatResponse.builder()
        .aiMessage(ai.build())
        .id("chatcmpl-" + UUID.randomUUID())
        .modelName(modelName)
        .tokenUsage(new TokenUsage(c.trajectory().turns().get(c.trajectory().turns().size() - 1).promptIds().length,
            c.completion().tokens().length))
        .finishReason(finish)
        .build();
  }

  /**
   * JSON-schema response formats, which AiServices then uses for structured outputs (a record or
   * POJO return type), where the tokenizer is byte-level BPE: constrained decoding needs each
   * token's bytes.
   */
  @Override
  public Set<Capability> supportedCapabilities() {
    return completions.format().tokenizer().byteLevel() ? Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA) : Set.of();
  }

  @Override
  public ChatRequestParameters defaultRequestParameters() {
    return DefaultChatRequestParameters.builder().modelName(modelName).temperature(defaults.temperature())
        .topP(defaults.topP()).maxOutputTokens(defaults.maxNewTokens()).build();
  }

  /** The conversations this model answered, as trajectories with their tokens (latest state of each). */
  public List<Trajectory> trajectories() {
    return completions.trajectories();
  }

  /** {@link #trajectories()}, and forgets them (call once per rollout when the model is shared). */
  public List<Trajectory> drainTrajectories() {
    return completions.drainTrajectories();
  }

  static Message message(ChatMessage m) {
    if (m instanceof SystemMessage s) {
      return Message.system(s.text());
    }
    if (m instanceof UserMessage u) {
      if (u.hasSingleText()) {
        return Message.user(u.singleText());
      }
      StringBuilder text = new StringBuilder();
      for (Content c : u.contents()) {
        if (!(c instanceof TextContent t)) {
          throw new IllegalArgumentException("LocalChatModel takes text only, got " + c.type() + " content");
        }
        text.append(t.text());
      }
      return Message.user(text.toString());
    }
    if (m instanceof AiMessage a) {
      List<ToolCall> calls = new ArrayList<>();
      if (a.hasToolExecutionRequests()) {
        for (ToolExecutionRequest r : a.toolExecutionRequests()) {
          calls.add(new ToolCall(r.id(), r.name(), r.arguments()));
        }
      }
      return new Message(dev.art4j.core.chat.Role.ASSISTANT, a.text(), calls, null, null, a.thinking());
    }
    if (m instanceof ToolExecutionResultMessage t) {
      return Message.tool(t.id(), t.toolName(), t.text());
    }
    throw new IllegalArgumentException("LocalChatModel cannot send a " + m.type() + " message to the model");
  }

  static ToolSpec toolSpec(ToolSpecification t) {
    JsonNode schema = t.parameters() == null ? null : JSON.valueToTree(JsonSchemaElementUtils.toMap(t.parameters()));
    return new ToolSpec(t.name(), t.description(), schema);
  }

  /** Options of a {@link LocalChatModel}. */
  public static final class Builder {
    private final CompletionSource source;
    private final ChatFormat format;
    private SamplingParams sampling = SamplingParams.builder().maxNewTokens(1024).build();
    private String modelName = "art4j-local";
    private int capacity = 1024;

    private Builder(CompletionSource source, ChatFormat format) {
      this.source = Objects.requireNonNull(source, "source");
      this.format = Objects.requireNonNull(format, "format");
    }

    /** Sampling when a request does not say (default temperature 1, top-p 1, 1024 new tokens). */
    public Builder sampling(SamplingParams v) { sampling = Objects.requireNonNull(v); return this; }

    /** The name reported in responses; default "art4j-local". */
    public Builder modelName(String v) { modelName = Objects.requireNonNull(v); return this; }

    /** How many conversations to keep for {@link #trajectories()}; default 1024. */
    public Builder capacity(int v) { capacity = v; return this; }

    public LocalChatModel build() {
      return new LocalChatModel(this);
    }
  }
}
