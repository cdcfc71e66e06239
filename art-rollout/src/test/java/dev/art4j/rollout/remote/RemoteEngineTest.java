package dev.art4j.rollout.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.server.OpenAiServer;
import java.net.URI;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** RemoteEngine against a real OpenAI/vLLM-compatible server on 127.0.0.1 over the tiny-chat fixture. */
class RemoteEngineTest {

  static TestKit.TinyChat tiny;
  static OpenAiServer server;

  @BeforeAll
  static void start() throws Exception {
    tiny = TestKit.TinyChat.load(5);
    server = OpenAiServer.builder(tiny.engine(), tiny.format()).port(0).modelName("tiny-chat").start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (tiny != null) {
      tiny.close();
    }
  }

  static int[] prompt(String text) {
    return tiny.format().tokenizer().encode(text);
  }

  @Test
  void sameTokensAndLogprobsAsTheInProcessEngineForTheSameSeed() throws Exception {
    try (RemoteEngine remote = RemoteEngine.builder(List.of(server.baseUrl())).build()) {
      assertEquals("tiny-chat", remote.baseModel(), "found on /v1/models");
      List<SamplingParams> cases = List.of(
          SamplingParams.builder().temperature(1.0).maxNewTokens(24).seed(11).build(),
          SamplingParams.builder().temperature(0.7).topP(0.9).topK(20).maxNewTokens(24).seed(12).build(),
          SamplingParams.builder().temperature(1.3).maxNewTokens(16).seed(13).ignoreEos(true).build(),
          SamplingParams.greedy(20));
      int[] p = prompt("<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n");
      for (SamplingParams sp : cases) {
        Completion local = tiny.engine().submit(p, sp).get();
        Completion viaHttp = remote.submit(p, sp).get();
        assertArrayEquals(local.tokens(), viaHttp.tokens(), sp.toString());
        assertArrayEquals(local.logprobs(), viaHttp.logprobs(), 1e-6f, sp.toString());
        assertEquals(local.logprobTemperature(), viaHttp.logprobTemperature(), sp.toString());
        assertEquals(local.finishReason(), viaHttp.finishReason(), sp.toString());
        assertEquals(p.length, viaHttp.promptTokens());
      }
      // a stop id ends the completion and is included, as in-process
      SamplingParams free = SamplingParams.builder().temperature(1.0).maxNewTokens(30).seed(21).build();
      int[] sampled = tiny.engine().submit(p, free).get().tokens();
      SamplingParams stopping = free.toBuilder().stopTokenIds(List.of(sampled[3])).build();
      Completion local = tiny.engine().submit(p, stopping).get();
      Completion viaHttp = remote.submit(p, stopping).get();
      assertEquals(FinishReason.STOP, viaHttp.finishReason());
      assertEquals(sampled[3], viaHttp.tokens()[viaHttp.tokens().length - 1]);
      assertArrayEquals(local.tokens(), viaHttp.tokens());
    }
  }

  @Test
  void rawLogprobServersReportTemperatureOne() throws Exception {
    try (RemoteEngine remote = RemoteEngine.builder(List.of(server.baseUrl())).rawLogprobs(true).build()) {
      Completion c = remote.submit(prompt("hello"), SamplingParams.builder().temperature(0.6).maxNewTokens(4).seed(3).build()).get();
      assertEquals(1f, c.logprobTemperature());
    }
  }

  @Test
  void aBadRequestFailsWithTheServersReasonAndAnUnknownModelToo() throws Exception {
    try (RemoteEngine remote = RemoteEngine.builder(List.of(URI.create(server.baseUrl() + "/"))).build()) {
      int vocab = tiny.engine().config().vocabSize();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> remote.submit(new int[] {1, vocab + 5}, SamplingParams.greedy(3)).get());
      assertInstanceOf(IllegalArgumentException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("HTTP 400") && e.getCause().getMessage().contains(String.valueOf(vocab + 5)),
          e.getCause().getMessage());
      ExecutionException m = assertThrows(ExecutionException.class,
          () -> remote.submit(prompt("hi"), SamplingParams.greedy(3), "run@7").get());
      assertTrue(m.getCause().getMessage().contains("HTTP 404") && m.getCause().getMessage().contains("run@7"),
          m.getCause().getMessage());
      assertEquals(1, remote.servers().get(0).up() ? 1 : 0, "client errors never take a server out of rotation");
      // a constraint cannot travel to a vLLM server: refused, never silently dropped
      SamplingParams constrained = SamplingParams.builder().maxNewTokens(3).constraint(dev.art4j.rollout.constrain.JsonConstraint
          .anyObject(dev.art4j.rollout.constrain.TokenVocabulary.of(tiny.format().tokenizer()))).build();
      ExecutionException c = assertThrows(ExecutionException.class, () -> remote.submit(prompt("hi"), constrained).get());
      assertTrue(c.getCause().getMessage().contains("constrained decoding"), c.getCause().getMessage());
    }
  }

  @Test
  void noServerUpIsAClearError() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> RemoteEngine.builder(List.of(URI.create("http://127.0.0.1:1"))).build());
    assertTrue(e.getMessage().contains("http://127.0.0.1:1") && e.getMessage().contains("/health"), e.getMessage());
  }
}
