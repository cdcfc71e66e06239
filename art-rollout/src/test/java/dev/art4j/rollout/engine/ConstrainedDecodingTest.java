package dev.art4j.rollout.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.model.Policy;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.rollout.agent.TestKit;
import dev.art4j.rollout.completion.Completion;
import dev.art4j.rollout.completion.FinishReason;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.completion.TokenConstraint;
import dev.art4j.rollout.constrain.JsonConstraint;
import dev.art4j.rollout.constrain.TokenVocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Constrained decoding through the real engine on the tiny-chat fixture, whose random weights
 * write bytes at random: unconstrained its replies are never JSON, constrained every one parses
 * and validates, on both backends, over seeds and temperatures.
 */
class ConstrainedDecodingTest {

  /** Strict: one JSON value and nothing after it. */
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  static final int[] PROMPT = {10, 20, 30, 40, 50};
  static final int EOS = 258;
  static Policy policy;
  static Tokenizer tokenizer;
  static JsonNode schema;
  static JsonConstraint constraint;

  @BeforeAll
  static void load() throws Exception {
    policy = Policy.load(TestKit.tinyChat());
    tokenizer = policy.tokenizer().orElseThrow();
    schema = JSON.readTree("""
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 6}, "age": {"type": "integer"},
          "tags": {"type": "array", "items": {"enum": ["a", "bc"]}, "maxItems": 3}, "ok": {"type": ["boolean", "null"]}},
         "required": ["name", "age"], "additionalProperties": false}""");
    constraint = JsonConstraint.schema(TokenVocabulary.of(tokenizer), schema);
  }

  @AfterAll
  static void close() {
    policy.close();
  }

  static InferenceEngine engine(Backend backend) {
    return InferenceEngine.builder().model(policy.model()).backend(backend).inferenceDtype(InferenceDtype.FP32)
        .eosTokenIds(List.of(EOS)).threads(1).seed(1).build();
  }

  static String text(Completion c) {
    int[] ids = c.tokens();
    int n = ids.length > 0 && ids[ids.length - 1] == EOS ? ids.length - 1 : ids.length;
    return tokenizer.decode(Arrays.copyOf(ids, n));
  }

  /** The schema's rules, checked on the parsed value (independently of the automaton). */
  static void assertValid(JsonNode v, String text) {
    assertTrue(v.isObject(), text);
    assertTrue(v.path("name").isTextual() && v.get("name").asText().codePointCount(0, v.get("name").asText().length()) <= 6, text);
    assertTrue(v.path("age").isIntegralNumber(), text);
    v.fieldNames().forEachRemaining(k -> assertTrue(List.of("name", "age", "tags", "ok").contains(k), text));
    if (v.has("tags")) {
      assertTrue(v.get("tags").isArray() && v.get("tags").size() <= 3, text);
      v.get("tags").forEach(t -> assertTrue(t.asText().equals("a") || t.asText().equals("bc"), text));
    }
    if (v.has("ok")) {
      assertTrue(v.get("ok").isBoolean() || v.get("ok").isNull(), text);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void everyReplyValidatesOverSeedsAndTemperatures(Backend backend) throws Exception {
    try (InferenceEngine engine = engine(backend)) {
      List<CompletableFuture<Completion>> free = new ArrayList<>();
      List<CompletableFuture<Completion>> constrained = new ArrayList<>();
      double[] temperatures = {0, 0.7, 1.0, 1.5};
      for (int seed = 0; seed < 8; seed++) {
        for (double t : temperatures) {
          SamplingParams p = SamplingParams.builder().temperature(t).seed(seed).maxNewTokens(400).topK(seed % 2 == 0 ? 0 : 50)
              .build();
          free.add(engine.submit(PROMPT, p.toBuilder().maxNewTokens(40).build()));
          constrained.add(engine.submit(PROMPT, p.toBuilder().constraint(constraint).build()));
        }
      }
      int parsedFree = 0;
      for (CompletableFuture<Completion> f : free) {
        try {
          parsedFree += JSON.readTree(text(f.get(120, TimeUnit.SECONDS))).isObject() ? 1 : 0;
        } catch (Exception e) {
          // garbage, as expected of random weights
        }
      }
      assertEquals(0, parsedFree, "random weights do not write JSON objects by themselves");
      for (CompletableFuture<Completion> f : constrained) {
        Completion c = f.get(120, TimeUnit.SECONDS);
        String text = text(c);
        assertEquals(FinishReason.STOP, c.finishReason(), text);
        assertEquals(EOS, c.tokens()[c.tokens().length - 1]);
        assertValid(JSON.readTree(text), text);
        assertTrue(constraint.accepts(text), text);
      }
    }
  }

  /** The log-probs returned are those of the masked distribution: log-softmax over the allowed ids only. */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void logprobsAreThoseOfTheMaskedDistribution(Backend backend) throws Exception {
    try (InferenceEngine engine = engine(backend)) {
      Completion c = engine.submit(PROMPT, SamplingParams.builder().temperature(1).seed(3).maxNewTokens(60)
          .constraint(constraint).build()).get(60, TimeUnit.SECONDS);
      int vocab = policy.config().vocabSize();
      TokenConstraint.Matcher m = constraint.start();
      int[] context = PROMPT;
      for (int i = 0; i < c.tokens().length; i++) {
        boolean[] allowed = new boolean[vocab];
        m.allow(allowed);
        if (m.complete()) {
          allowed[EOS] = true;
        }
        float[] all = fullLogprobs(context);
        double z = Double.NEGATIVE_INFINITY;
        for (int id = 0; id < vocab; id++) {
          if (allowed[id]) {
            z = logAdd(z, all[id]);
          }
        }
        int token = c.tokens()[i];
        assertTrue(allowed[token], "step " + i);
        assertEquals(all[token] - z, c.logprobs()[i], 2e-3, "step " + i);
        assertTrue(c.logprobs()[i] >= all[token] - 1e-4, "masking only raises the sampled id's probability");
        context = Arrays.copyOf(context, context.length + 1);
        context[context.length - 1] = token;
        if (token != EOS) {
          m = m.advance(token);
        }
      }
    }
  }

  static double logAdd(double a, double b) {
    double max = Math.max(a, b);
    return max == Double.NEGATIVE_INFINITY ? max : max + Math.log(Math.exp(a - max) + Math.exp(b - max));
  }

  /** log-softmax of the next-token logits after {@code context}, by a forward pass of the core model. */
  static float[] fullLogprobs(int[] context) {
    int vocab = policy.config().vocabSize();
    float[] out = new float[vocab];
    try (ai.djl.ndarray.NDManager nd = policy.model().manager().newSubManager()) {
      long[] all = Arrays.stream(context).asLongStream().toArray();
      ai.djl.ndarray.NDArray logits = policy.model().forward(nd.create(all).reshape(1, all.length), null);
      float[] row = logits.get(0).get(all.length - 1).logSoftmax(-1).toFloatArray();
      System.arraycopy(row, 0, out, 0, vocab);
    }
    return out;
  }

  /** A seeded constrained request samples the same ids alone and beside others (batch invariance). */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void seededConstrainedRequestsAreBatchInvariant(Backend backend) throws Exception {
    try (InferenceEngine engine = engine(backend)) {
      SamplingParams p = SamplingParams.builder().temperature(1.2).seed(11).maxNewTokens(200).constraint(constraint).build();
      int[] alone = engine.submit(PROMPT, p).get(60, TimeUnit.SECONDS).tokens();
      List<CompletableFuture<Completion>> crowd = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        crowd.add(engine.submit(new int[] {7 + i, 8, 9}, SamplingParams.builder().temperature(1).seed(i).maxNewTokens(50)
            .constraint(i % 2 == 0 ? constraint : null).build()));
      }
      CompletableFuture<Completion> again = engine.submit(PROMPT, p);
      assertArrayEquals(alone, again.get(60, TimeUnit.SECONDS).tokens());
      int[] greedy = engine.submit(PROMPT, SamplingParams.builder().temperature(0).maxNewTokens(200).constraint(constraint)
          .build()).get(60, TimeUnit.SECONDS).tokens();
      assertArrayEquals(greedy, engine.submit(PROMPT, SamplingParams.builder().temperature(0).maxNewTokens(200)
          .constraint(constraint).build()).get(60, TimeUnit.SECONDS).tokens());
      for (CompletableFuture<Completion> f : crowd) {
        f.get(60, TimeUnit.SECONDS);
      }
    }
  }

  /** Cut by maxNewTokens: finish "length" with the unfinished text; min_tokens never outlasts a complete text. */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void lengthLeavesAPrefixAndCompleteTextEndsDespiteMinTokens(Backend backend) throws Exception {
    try (InferenceEngine engine = engine(backend)) {
      Completion cut = engine.submit(PROMPT, SamplingParams.builder().seed(2).maxNewTokens(5).constraint(constraint).build())
          .get(60, TimeUnit.SECONDS);
      assertEquals(FinishReason.LENGTH, cut.finishReason());
      assertEquals(5, cut.tokens().length);
      assertTrue(constraint.acceptsPrefix(text(cut)), text(cut));
      assertFalse(constraint.accepts(text(cut)), text(cut));
      JsonConstraint one = JsonConstraint.schema(TokenVocabulary.of(tokenizer), JSON.readTree("{\"enum\": [true]}"));
      Completion c = engine.submit(PROMPT, SamplingParams.builder().seed(2).maxNewTokens(50).minTokens(20).constraint(one)
          .build()).get(60, TimeUnit.SECONDS);
      assertEquals("true", text(c));
      assertEquals(FinishReason.STOP, c.finishReason());
      assertEquals(5, c.tokens().length);
    }
  }

  /** json_object: any object, over seeds; a reply cut by the token limit is still a valid prefix. */
  @ParameterizedTest
  @EnumSource(Backend.class)
  void anyObjectReplies(Backend backend) throws Exception {
    JsonConstraint object = JsonConstraint.anyObject(TokenVocabulary.of(tokenizer));
    try (InferenceEngine engine = engine(backend)) {
      List<CompletableFuture<Completion>> fs = new ArrayList<>();
      for (int seed = 0; seed < 12; seed++) {
        fs.add(engine.submit(PROMPT, SamplingParams.builder().temperature(seed % 3 == 0 ? 0 : 1).seed(seed).maxNewTokens(600)
            .constraint(object).build()));
      }
      int stopped = 0;
      for (CompletableFuture<Completion> f : fs) {
        Completion c = f.get(120, TimeUnit.SECONDS);
        String text = text(c);
        if (c.finishReason() == FinishReason.STOP) {
          assertTrue(JSON.readTree(text).isObject(), text);
          stopped++;
        } else {
          assertTrue(object.acceptsPrefix(text), text);
        }
      }
      assertTrue(stopped >= 6, stopped + " of 12 finished within 600 tokens");
    }
  }
}
