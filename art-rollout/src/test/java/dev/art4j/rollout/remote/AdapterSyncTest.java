package dev.art4j.rollout.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

/**
 * Adapter hot-load against servers on 127.0.0.1 that answer as vLLM does (its runtime LoRA
 * endpoints, its error shape, its completion answer with {@code "token_id:N"} tokens).
 */
class AdapterSyncTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** A vLLM-shaped server: records every request; load_lora_adapter fails for paths containing {@code refuse}. */
  static final class FakeVllm implements AutoCloseable {
    final MockWebServer server = new MockWebServer();
    final List<String> calls = new CopyOnWriteArrayList<>();

    FakeVllm() throws Exception {
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest r) {
          String path = r.getUrl().encodedPath();
          String body = r.getBody() == null ? "" : r.getBody().utf8();
          try {
            switch (path) {
              case "/health":
                return new MockResponse.Builder().code(200).build();
              case "/v1/models":
                return json(200, "{\"object\":\"list\",\"data\":[{\"id\":\"Qwen/Qwen2.5-0.5B-Instruct\",\"object\":\"model\","
                    + "\"root\":\"Qwen/Qwen2.5-0.5B-Instruct\",\"parent\":null}]}");
              case "/v1/load_lora_adapter": {
                JsonNode b = JSON.readTree(body);
                calls.add("load " + b.get("lora_name").asText() + " " + b.get("lora_path").asText());
                if (b.get("lora_path").asText().contains("refuse")) {
                  return json(400, "{\"object\":\"error\",\"message\":\"Loading lora " + b.get("lora_name").asText()
                      + " failed: No adapter found for " + b.get("lora_path").asText() + "\",\"type\":\"BadRequestError\","
                      + "\"param\":null,\"code\":400}");
                }
                return new MockResponse.Builder().code(200)
                    .body("Success: LoRA adapter '" + b.get("lora_name").asText() + "' added successfully.").build();
              }
              case "/v1/unload_lora_adapter":
                calls.add("unload " + JSON.readTree(body).get("lora_name").asText());
                return new MockResponse.Builder().code(200).body("Success").build();
              case "/v1/completions": {
                JsonNode b = JSON.readTree(body);
                calls.add("complete " + b.get("model").asText() + " logprobs=" + b.get("logprobs") + " ids="
                    + b.get("return_tokens_as_token_ids") + " skip=" + b.get("skip_special_tokens"));
                return json(200, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\""
                    + b.get("model").asText() + "\",\"choices\":[{\"index\":0,\"text\":\"Hi!\",\"logprobs\":{\"text_offset\":[0,2],"
                    + "\"token_logprobs\":[-0.25,-1.5],\"tokens\":[\"token_id:13048\",\"token_id:151645\"],"
                    + "\"top_logprobs\":[{\"token_id:13048\":-0.25},{\"token_id:151645\":-1.5}]},\"finish_reason\":\"stop\","
                    + "\"stop_reason\":null,\"prompt_logprobs\":null}],\"usage\":{\"prompt_tokens\":3,\"total_tokens\":5,"
                    + "\"completion_tokens\":2}}");
              }
              default:
                return json(404, "{\"detail\":\"Not Found\"}");
            }
          } catch (Exception e) {
            return json(500, "{\"message\":\"" + e + "\"}");
          }
        }
      });
      server.start();
    }

    java.net.URI url() {
      return server.url("/").uri();
    }

    @Override
    public void close() throws Exception {
      server.close();
    }
  }

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  @Test
  void eachStepsCheckpointIsLoadedEverywhereUnderTheServerRootAndTheOldOneUnloaded() throws Exception {
    Path local = Path.of("/data/runs/math-1");
    try (FakeVllm s1 = new FakeVllm(); FakeVllm s2 = new FakeVllm();
         RemoteEngine fleet = RemoteEngine.builder(List.of(s1.url(), s2.url())).build()) {
      AdapterSync sync = new AdapterSync(fleet, "math-1", local, "/mnt/shared/math-1/", 1);
      assertEquals("Qwen/Qwen2.5-0.5B-Instruct", sync.useBase());
      assertEquals("/mnt/shared/math-1/checkpoints/0001", sync.serverPath(local.resolve("checkpoints/0001")));
      assertEquals("math-1@1", sync.publish(1, local.resolve("checkpoints/0001")));
      assertEquals("math-1@2", sync.publish(2, local.resolve("checkpoints/0002")));
      assertEquals("math-1@2", fleet.model());
      Completion c = fleet.submit(new int[] {1, 2, 3}, SamplingParams.builder().temperature(0.8).seed(4).build()).get();
      assertArrayEquals(new int[] {13048, 151645}, c.tokens());
      assertArrayEquals(new float[] {-0.25f, -1.5f}, c.logprobs());
      assertEquals(0.8f, c.logprobTemperature());
      assertEquals(FinishReason.STOP, c.finishReason());
      for (FakeVllm s : List.of(s1, s2)) {
        assertEquals(List.of("load math-1@1 /mnt/shared/math-1/checkpoints/0001", "load math-1@2 /mnt/shared/math-1/checkpoints/0002",
            "unload math-1@1"), s.calls.stream().filter(x -> !x.startsWith("complete")).toList());
      }
      String sent = s1.calls.stream().filter(x -> x.startsWith("complete")).findFirst()
          .orElseGet(() -> s2.calls.stream().filter(x -> x.startsWith("complete")).findFirst().orElseThrow());
      assertEquals("complete math-1@2 logprobs=1 ids=true skip=false", sent);
      assertThrows(IllegalArgumentException.class, () -> sync.serverPath(Path.of("/elsewhere/checkpoints/3")));
    }
  }

  @Test
  void aServerThatRefusesTheAdapterStopsTheSyncNamingServerAndPath() throws Exception {
    try (FakeVllm s1 = new FakeVllm(); RemoteEngine fleet = RemoteEngine.builder(List.of(s1.url())).build()) {
      AdapterSync sync = new AdapterSync(fleet, "run", Path.of("/runs"), "/srv/refuse", 2);
      AdapterLoadException e = assertThrows(AdapterLoadException.class, () -> sync.publish(3, Path.of("/runs/checkpoints/3")));
      String server = s1.url().toString().replaceAll("/$", "");
      assertTrue(e.getMessage().startsWith(server + " could not load LoRA adapter 'run@3' from /srv/refuse/checkpoints/3: HTTP 400"),
          e.getMessage());
      assertTrue(e.getMessage().contains("No adapter found"), e.getMessage());
      assertEquals(server, e.server());
      assertEquals("/srv/refuse/checkpoints/3", e.adapterPath());
      assertEquals(fleet.baseModel(), fleet.model(), "rollouts do not move to an adapter that is not loaded");
    }
  }
}
