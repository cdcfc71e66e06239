package dev.art4j.rollout.server;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.art4j.core.model.Lora;
import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.CompletionSource;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenListener;
import dev.art4j.rollout.engine.InferenceEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LoRA adapters loaded at run time ({@code /v1/load_lora_adapter}, vLLM's API), several resident
 * at once, each chosen by a request's {@code model}. An adapter is a PEFT folder
 * ({@code adapter_config.json} + {@code adapter_model.safetensors}) for the served model; the
 * engine keeps a frozen copy of its weights, so the folder may change afterwards.
 */
final class LoraAdapters {

  private static final Logger LOG = LoggerFactory.getLogger(LoraAdapters.class);

  private final CompletionSource base;
  private final ChatFormat format;
  private final int capacity;
  private final Map<String, Target> loaded = new LinkedHashMap<>();

  LoraAdapters(CompletionSource base, ChatFormat format, int capacity) {
    this.base = base;
    this.format = format;
    this.capacity = capacity;
  }

  synchronized Target get(String name) {
    return loaded.get(name);
  }

  synchronized List<Target> all() {
    return new ArrayList<>(loaded.values());
  }

  /** {@code {"lora_name", "lora_path"}}: loads and freezes the adapter; 400 if the name is taken or the folder is bad. */
  void load(JsonNode body, String baseName) {
    String name = text(body, "lora_name");
    String path = text(body, "lora_path");
    if (name.equals(baseName)) {
      throw new BadRequestException("'lora_name' '" + name + "' is the base model's name", "lora_name");
    }
    if (!(base instanceof InferenceEngine engine)) {
      throw new BadRequestException("this server's completion source cannot load LoRA adapters", "lora_path");
    }
    synchronized (this) {
      if (loaded.containsKey(name)) {
        throw new BadRequestException("The lora adapter '" + name + "' has already been loaded.", "lora_name");
      }
    }
    Path dir = Path.of(path);
    if (!Files.isDirectory(dir)) {
      throw new BadRequestException("'lora_path' " + path + " is not a directory", "lora_path");
    }
    InferenceEngine.Adapter adapter;
    try (NDManager manager = NDManager.newBaseManager(); Lora lora = Lora.load(dir, engine.config(), manager)) {
      adapter = engine.freeze(lora);
    } catch (Exception e) {
      throw new BadRequestException("cannot load the LoRA adapter at " + path + ": " + e.getMessage(), "lora_path");
    }
    CompletionSource source = new CompletionSource() {
      @Override
      public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params) {
        return engine.submit(promptIds, params, null, adapter);
      }

      @Override
      public CompletableFuture<Completion> submit(int[] promptIds, SamplingParams params, TokenListener listener) {
        return engine.submit(promptIds, params, listener, adapter);
      }
    };
    synchronized (this) {
      if (loaded.containsKey(name)) {
        throw new BadRequestException("The lora adapter '" + name + "' has already been loaded.", "lora_name");
      }
      loaded.put(name, new Target(name, source, new ChatCompletions(source, format, capacity), path));
    }
    LOG.info("LoRA adapter '{}' loaded from {}", name, path);
  }

  /** {@code {"lora_name"}}: forgets the adapter (requests already running finish with it); 404 if unknown. */
  void unload(JsonNode body) {
    String name = text(body, "lora_name");
    synchronized (this) {
      if (loaded.remove(name) == null) {
        throw new ApiException(404, "The lora adapter '" + name + "' cannot be found.", "invalid_request_error", "lora_name",
            "model_not_found");
      }
    }
    LOG.info("LoRA adapter '{}' unloaded", name);
  }

  private static String text(JsonNode body, String field) {
    if (!body.isObject() || !body.path(field).isTextual() || body.get(field).asText().isBlank()) {
      throw new BadRequestException("'" + field + "' must be a non-empty string", field);
    }
    return body.get(field).asText();
  }
}
