package dev.art4j.rollout.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.rollout.engine.InferenceEngine;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** The URL space: cheap GETs answered on the I/O thread, sampling requests handed to workers. */
final class Routes extends Handler.Abstract.NonBlocking {

  private final OpenAiServer server;
  private final ChatEndpoint chat;
  private final CompletionEndpoint completion;

  Routes(OpenAiServer server) {
    this.server = server;
    this.chat = new ChatEndpoint(server);
    this.completion = new CompletionEndpoint(server);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    Exchange ex = new Exchange(request, response, callback);
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    try {
      if (path.startsWith("/v1/") && !server.authorized(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
        throw new ApiException(401, "Incorrect or missing API key: send 'Authorization: Bearer <key>'", "invalid_request_error",
            null, "invalid_api_key");
      }
      switch (path) {
        case "/health" -> {
          method(method, path, "GET");
          ex.text(200, "text/plain", "");
        }
        case "/ping" -> ex.text(200, "text/plain", "");
        case "/version" -> {
          method(method, path, "GET");
          ex.json(200, Exchange.JSON.createObjectNode().put("version", OpenAiServer.VERSION));
        }
        case "/metrics" -> {
          method(method, path, "GET");
          double kv = server.source instanceof InferenceEngine e ? e.kvUsage() : Double.NaN;
          ex.text(200, "text/plain; version=0.0.4; charset=utf-8", server.metrics.render(server.running(), server.waiting(), kv));
        }
        case "/v1/models" -> {
          method(method, path, "GET");
          ObjectNode out = Exchange.JSON.createObjectNode().put("object", "list");
          ArrayNode data = out.putArray("data");
          data.add(model(server.target(null)));
          server.adapters.all().forEach(t -> data.add(model(t)));
          ex.json(200, out);
        }
        case "/v1/load_lora_adapter" -> {
          method(method, path, "POST");
          server.dispatch(ex, (x, body) -> {
            server.adapters.load(body, server.modelName);
            x.text(200, "text/plain", "Success: LoRA adapter '" + body.get("lora_name").asText() + "' added successfully.");
          });
        }
        case "/v1/unload_lora_adapter" -> {
          method(method, path, "POST");
          server.dispatch(ex, (x, body) -> {
            server.adapters.unload(body);
            x.text(200, "text/plain", "Success: LoRA adapter '" + body.get("lora_name").asText() + "' removed successfully.");
          });
        }
        case "/v1/chat/completions" -> {
          method(method, path, "POST");
          server.dispatch(ex, chat::handle);
        }
        case "/v1/completions" -> {
          method(method, path, "POST");
          server.dispatch(ex, completion::handle);
        }
        case "/tokenize" -> {
          method(method, path, "POST");
          server.dispatch(ex, completion::tokenize);
        }
        case "/detokenize" -> {
          method(method, path, "POST");
          server.dispatch(ex, completion::detokenize);
        }
        case "/v1/trajectories" -> {
          method(method, path, "GET");
          ObjectNode out = Exchange.JSON.createObjectNode().put("object", "list");
          out.set("data", Exchange.JSON.valueToTree(server.trajectories()));
          ex.json(200, out);
        }
        default -> {
          if (path.startsWith("/v1/models/")) {
            method(method, path, "GET");
            ex.json(200, model(server.target(path.substring("/v1/models/".length()))));
          } else if (path.startsWith("/v1/trajectories/")) {
            method(method, path, "GET");
            String id = path.substring("/v1/trajectories/".length());
            Optional<List<Trajectory>> t = server.completion(id);
            if (t.isEmpty()) {
              throw ApiException.notFound("no completion with id '" + id + "' is kept", "not_found");
            }
            ObjectNode out = Exchange.JSON.createObjectNode().put("id", id);
            out.set("trajectories", Exchange.JSON.valueToTree(t.get()));
            ex.json(200, out);
          } else {
            throw ApiException.notFound("unknown path " + path + " (see /v1/models, /v1/chat/completions, /v1/completions, "
                + "/tokenize, /detokenize, /health, /metrics, /v1/trajectories)", "not_found");
          }
        }
      }
    } catch (ApiException e) {
      ex.error(e);
    }
    return true;
  }

  private ObjectNode model(Target t) {
    ObjectNode m = Exchange.JSON.createObjectNode().put("id", t.name()).put("object", "model")
        .put("created", server.created).put("owned_by", "art4j");
    if (t.path() == null) {
      m.put("root", t.name()).putNull("parent");
    } else {
      m.put("root", t.path()).put("parent", server.modelName);
    }
    if (server.maxContext != Integer.MAX_VALUE) {
      m.put("max_model_len", server.maxContext);
    }
    return m;
  }

  private static void method(String method, String path, String expected) {
    if (!method.equals(expected)) {
      throw new ApiException(405, path + " takes " + expected + ", not " + method, "invalid_request_error", null, null);
    }
  }

  static ArrayNode array() {
    return Exchange.JSON.createArrayNode();
  }

  static JsonNode nullNode() {
    return Exchange.JSON.nullNode();
  }
}
