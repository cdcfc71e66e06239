package dev.art4j.mcp.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.ToolSpec;
import dev.art4j.core.usage.TokenPrices;
import dev.art4j.core.usage.TokenUsage;
import dev.art4j.core.usage.UsageMeter;
import dev.art4j.mcp.toolset.McpResourceInfo;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonIntegerSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synthesises training tasks from a tool list: asks any langchain4j {@link ChatModel} (OpenAI,
 * OpenRouter or a LiteLLM proxy through {@code OpenAiChatModel} with a base URL, Ollama, ...) for
 * {@code n} realistic requests a user could make that need the tools, without naming them,
 * each with a difficulty from 1 to 5.
 *
 * <p>The reply is requested as JSON with a schema ({@code {"scenarios": [{"task", "difficulty"}]}})
 * and checked: a reply that is not JSON or has a malformed entry is rejected and the model is
 * told what was wrong; near-duplicates (same words, case and punctuation aside) and tasks that
 * spell out a distinctive tool name ({@code get-sum}, {@code unit_convert}) are dropped;
 * extra entries are cut; missing ones are asked for again. Large sets are written in batches of
 * {@code batchSize}, each request quoting the tasks written so far. After {@code maxAttempts}
 * replies without completing a batch, {@link #generate} fails with every problem seen.
 *
 * <pre>{@code
 * ScenarioSet set = ScenarioGenerator.builder(chatModel)
 *     .customInstructions("Tasks are about household budgets.")
 *     .build()
 *     .generate(toolset.tools(), toolset.resources(), 24);
 * }</pre>
 *
 * <p>Every answered request adds the prompt and completion tokens of the API's {@code usage} to
 * {@link #usage()} (rejected replies included: they are billed too); with {@link Builder#prices},
 * {@link #cost()} is what they cost.
 */
public final class ScenarioGenerator {

  private static final Logger log = LoggerFactory.getLogger(ScenarioGenerator.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ChatModel model;
  private final String customInstructions;
  private final int maxAttempts;
  private final boolean referenceAnswers;
  private final int batchSize;
  private final TokenPrices prices;
  private final UsageMeter meter = new UsageMeter();
  /** Earlier tasks quoted in a later batch's request, the most recent ones. */
  private static final int MAX_EARLIER_SHOWN = 100;

  private ScenarioGenerator(Builder b) {
    this.model = b.model;
    this.customInstructions = b.customInstructions;
    this.maxAttempts = b.maxAttempts;
    this.referenceAnswers = b.referenceAnswers;
    this.batchSize = b.batchSize;
    this.prices = b.prices;
  }

  /** The tokens of every answered request so far. */
  public TokenUsage usage() {
    return meter.total();
  }

  /** What {@link #usage()} cost at the builder's prices; NaN without prices. */
  public double cost() {
    return prices == null ? Double.NaN : prices.cost(usage());
  }

  public static Builder builder(ChatModel model) {
    return new Builder(model);
  }

  /** {@code n} scenarios for these tools (no resources). */
  public ScenarioSet generate(List<ToolSpec> tools, int n) {
    return generate(tools, List.of(), n);
  }

  /** {@code n} distinct scenarios for these tools and resources. */
  public ScenarioSet generate(List<ToolSpec> tools, List<McpResourceInfo> resources, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1, got " + n);
    }
    if (tools.isEmpty()) {
      throw new IllegalArgumentException("no tools to write scenarios for");
    }
    List<Scenario> accepted = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    while (accepted.size() < n) {
      int batch = Math.min(batchSize, n - accepted.size());
      List<String> problems = new ArrayList<>();
      if (!generateBatch(tools, resources, batch, accepted, seen, problems)) {
        throw new ScenarioGenerationException("got " + accepted.size() + " of " + n + " scenarios after " + maxAttempts
            + " attempts: " + String.join("; ", problems));
      }
      if (accepted.size() < n) {
        log.info("{} of {} scenarios so far", accepted.size(), n);
      }
    }
    return new ScenarioSet(accepted);
  }

  /**
   * One conversation that asks for {@code batch} more scenarios, adding them to {@code accepted};
   * false when {@code maxAttempts} replies were not enough.
   */
  private boolean generateBatch(List<ToolSpec> tools, List<McpResourceInfo> resources, int batch,
      List<Scenario> accepted, Set<String> seen, List<String> problems) {
    List<ChatMessage> messages = new ArrayList<>();
    messages.add(SystemMessage.from(systemPrompt()));
    messages.add(UserMessage.from(userPrompt(tools, resources, batch, accepted)));
    int target = accepted.size() + batch;
    boolean useSchema = true;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      int wanted = target - accepted.size();
      String reply;
      try {
        reply = ask(messages, useSchema);
      } catch (UnsupportedFeatureException e) {
        log.info("model does not take a JSON schema ({}); asking for JSON in the prompt only", e.getMessage());
        useSchema = false;
        reply = ask(messages, false);
      }
      messages.add(AiMessage.from(reply));
      String feedback;
      try {
        List<Scenario> parsed = parse(reply);
        int duplicates = 0;
        int namingTools = 0;
        int added = 0;
        for (Scenario s : parsed) {
          if (added == wanted) {
            break;
          }
          if (namesATool(s.task(), tools)) {
            namingTools++;
          } else if (seen.add(normalise(s.task()))) {
            accepted.add(s);
            added++;
          } else {
            duplicates++;
          }
        }
        if (parsed.size() > wanted) {
          log.info("attempt {}: got {} scenarios, asked for {}; keeping the first", attempt, parsed.size(), wanted);
        }
        if (accepted.size() >= target) {
          return true;
        }
        int missing = target - accepted.size();
        List<String> dropped = new ArrayList<>();
        if (duplicates > 0) {
          dropped.add(duplicates + " repeated an earlier task");
        }
        if (namingTools > 0) {
          dropped.add(namingTools + " named a tool");
        }
        String problem = "attempt " + attempt + ": asked for " + wanted + " scenarios, got " + parsed.size()
            + (dropped.isEmpty() ? "" : " (" + String.join(", ", dropped) + ")");
        problems.add(problem);
        log.info("{}; asking for {} more", problem, missing);
        feedback = "Thank you. I still need " + missing + " more scenario" + (missing == 1 ? "" : "s")
            + (dropped.isEmpty() ? "" : ", different from all earlier ones and naming no tool ("
                + String.join(", ", dropped) + ")")
            + ". Reply with exactly " + missing + " new scenario" + (missing == 1 ? "" : "s") + " in the same JSON format.";
      } catch (IllegalArgumentException e) {
        problems.add("attempt " + attempt + ": " + e.getMessage());
        log.info("attempt {}: rejected reply: {}", attempt, e.getMessage());
        feedback = "That reply could not be used: " + e.getMessage() + ". Reply with exactly " + wanted
            + " scenarios as a JSON object {\"scenarios\": [...]} and nothing else.";
      }
      messages.add(UserMessage.from(feedback));
    }
    return false;
  }

  private String ask(List<ChatMessage> messages, boolean useSchema) {
    ChatRequest.Builder request = ChatRequest.builder().messages(messages);
    if (useSchema) {
      request.responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(responseSchema()).build());
    }
    ChatResponse response = model.chat(request.build());
    dev.langchain4j.model.output.TokenUsage u = response.tokenUsage();
    meter.record(u == null || u.inputTokenCount() == null ? 0 : u.inputTokenCount(),
        u == null || u.outputTokenCount() == null ? 0 : u.outputTokenCount());
    String text = response.aiMessage().text();
    return text == null ? "" : text;
  }

  private JsonSchema responseSchema() {
    JsonObjectSchema.Builder item = JsonObjectSchema.builder()
        .addProperty("task", JsonStringSchema.builder().description("the user's request").build())
        .addProperty("difficulty", JsonIntegerSchema.builder().description("1 (one tool call) to 5 (many steps)").build());
    if (referenceAnswers) {
      item.addProperty("reference_answer", JsonStringSchema.builder().description("the correct final answer").build())
          .required("task", "difficulty", "reference_answer");
    } else {
      item.required("task", "difficulty");
    }
    JsonObjectSchema root = JsonObjectSchema.builder()
        .addProperty("scenarios", JsonArraySchema.builder().items(item.additionalProperties(false).build()).build())
        .required("scenarios")
        .additionalProperties(false)
        .build();
    return JsonSchema.builder().name("scenarios").rootElement(root).build();
  }

  private String systemPrompt() {
    return "You write training tasks for an AI assistant that is learning to use tools. Each task is a request "
        + "a real user could send: concrete, self-contained, with every number or value the assistant needs, "
        + "and solvable only by calling the tools. Never name a tool or say which tool to use, and never "
        + "give the answer in the task. Answer with JSON only.";
  }

  private String userPrompt(List<ToolSpec> tools, List<McpResourceInfo> resources, int n, List<Scenario> earlier) {
    ArrayNode toolJson = JSON.createArrayNode();
    for (ToolSpec t : tools) {
      ObjectNode o = toolJson.addObject().put("name", t.name()).put("description", t.description());
      o.set("parameters", t.parameters());
    }
    StringBuilder sb = new StringBuilder();
    sb.append("The assistant has these tools:\n").append(toolJson.toPrettyString()).append("\n\n");
    if (!resources.isEmpty()) {
      sb.append("and can read these resources:\n");
      for (McpResourceInfo r : resources) {
        sb.append("- ").append(r.uri()).append(" (").append(r.name()).append(")")
            .append(r.description().isEmpty() ? "" : ": " + r.description()).append('\n');
      }
      sb.append('\n');
    }
    sb.append("Write ").append(n).append(" distinct, realistic tasks that need these tools. Give each a difficulty from 1 to 5: ")
        .append("1 needs a single tool call, 3 needs a few calls whose results feed each other, 5 needs many steps ")
        .append("combining several tools. Spread the difficulties over the whole range and vary the topics and wording.\n");
    if (referenceAnswers) {
      sb.append("For each task also give reference_answer: the correct final answer, short.\n");
    }
    if (!earlier.isEmpty()) {
      sb.append("These tasks are written already; write different ones:\n");
      for (Scenario e : earlier.subList(Math.max(0, earlier.size() - MAX_EARLIER_SHOWN), earlier.size())) {
        String task = e.task().replace('\n', ' ');
        sb.append("- ").append(task.length() > 200 ? task.substring(0, 200) + "..." : task).append('\n');
      }
    }
    sb.append("Reply with a JSON object {\"scenarios\": [{\"task\": \"...\", \"difficulty\": 1")
        .append(referenceAnswers ? ", \"reference_answer\": \"...\"" : "").append("}, ...]} with exactly ")
        .append(n).append(" entries.");
    if (customInstructions != null && !customInstructions.isBlank()) {
      sb.append("\n\n").append(customInstructions.strip());
    }
    return sb.toString();
  }

  /** The scenarios of one reply; a reply that is not the requested JSON fails with what is wrong. */
  List<Scenario> parse(String reply) {
    JsonNode root;
    try {
      root = JSON.readTree(stripCodeFence(reply));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the reply is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    JsonNode list = root != null && root.isObject() ? root.get("scenarios") : root;
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException("the reply has no \"scenarios\" array");
    }
    List<Scenario> scenarios = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      JsonNode task = item.get("task");
      JsonNode difficulty = item.get("difficulty");
      if (task == null || !task.isTextual() || task.asText().isBlank()) {
        throw new IllegalArgumentException("scenario " + i + " has no \"task\" text");
      }
      if (difficulty == null || !difficulty.canConvertToInt() || !difficulty.isIntegralNumber()
          || difficulty.asInt() < 1 || difficulty.asInt() > 5) {
        throw new IllegalArgumentException("scenario " + i + " needs \"difficulty\" as a whole number from 1 to 5, got "
            + difficulty);
      }
      JsonNode answer = item.get("reference_answer");
      if (referenceAnswers && (answer == null || answer.isNull() || answer.asText().isBlank())) {
        throw new IllegalArgumentException("scenario " + i + " has no \"reference_answer\"");
      }
      scenarios.add(new Scenario(task.asText().strip(), difficulty.asInt(),
          answer == null || answer.isNull() ? null : answer.asText().strip(), Map.of("source", "synthesised")));
    }
    return scenarios;
  }

  private static String stripCodeFence(String reply) {
    String s = reply.strip();
    if (s.startsWith("```")) {
      int firstNewline = s.indexOf('\n');
      int lastFence = s.lastIndexOf("```");
      if (firstNewline > 0 && lastFence > firstNewline) {
        return s.substring(firstNewline + 1, lastFence);
      }
    }
    return s;
  }

  /**
   * Whether the task spells out the name of a tool that no one would write by chance: names
   * with {@code _}, {@code -} or an inner capital ({@code get-sum}, {@code unit_convert},
   * {@code getWeather}). Plain-word names such as {@code add} cannot be told from prose.
   */
  static boolean namesATool(String task, List<ToolSpec> tools) {
    String lower = task.toLowerCase(Locale.ROOT);
    for (ToolSpec t : tools) {
      String name = t.name();
      boolean distinctive = name.contains("_") || name.contains("-") || !name.equals(name.toLowerCase(Locale.ROOT))
          && !name.substring(1).equals(name.substring(1).toLowerCase(Locale.ROOT));
      if (distinctive && java.util.regex.Pattern.compile("(?<![\\w-])" + java.util.regex.Pattern.quote(name.toLowerCase(Locale.ROOT))
          + "(?![\\w-])").matcher(lower).find()) {
        return true;
      }
    }
    return false;
  }

  /** Lower case, letters and digits only, single spaces: "What is 2+2?" and "what is 2 + 2" are the same task. */
  static String normalise(String task) {
    return task.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{Nd}]+", " ").strip();
  }

  /** Options of a {@link ScenarioGenerator}. */
  public static final class Builder {
    private final ChatModel model;
    private String customInstructions;
    private int maxAttempts = 3;
    private boolean referenceAnswers;
    private int batchSize = 25;
    private TokenPrices prices;

    private Builder(ChatModel model) {
      this.model = Objects.requireNonNull(model, "model");
    }

    /** Appended to the request, e.g. the domain or the language of the tasks. */
    public Builder customInstructions(String text) {
      this.customInstructions = text;
      return this;
    }

    /**
     * Scenarios asked for per conversation (default 25): larger sets are written in batches, each
     * request listing the tasks written so far so that the next batch differs.
     */
    public Builder batchSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, got " + size);
      }
      this.batchSize = size;
      return this;
    }

    /** How many replies to ask for at most, per batch (default 3). */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /** Also ask for each task's expected final answer (default off). */
    public Builder referenceAnswers(boolean on) {
      this.referenceAnswers = on;
      return this;
    }

    /** The model's prices per million prompt and completion tokens, for {@link ScenarioGenerator#cost()}. */
    public Builder prices(TokenPrices prices) {
      this.prices = Objects.requireNonNull(prices, "prices");
      return this;
    }

    public ScenarioGenerator build() {
      return new ScenarioGenerator(this);
    }
  }
}
