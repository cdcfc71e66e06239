package dev.art4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.art4j.core.chat.Message;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.template.ChatTemplate;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTrainerTest {

  @TempDir Path tmp;

  /** A conversation: prompt tokens (not trained), then an assistant reply (trained). */
  static TokenSequence conversation(int[] prompt, int[] reply) {
    int[] ids = Tiny.concat(prompt, reply);
    boolean[] sampled = new boolean[ids.length];
    float[] lp = new float[ids.length];
    java.util.Arrays.fill(lp, Float.NaN);
    for (int i = prompt.length; i < ids.length; i++) {
      sampled[i] = true;
      lp[i] = 0f;
    }
    return new TokenSequence(ids, sampled, lp);
  }

  static List<TokenSequence> tinySet() {
    return List.of(
        conversation(new int[] {1, 10, 11, 12}, new int[] {40, 41, 42, 2}),
        conversation(new int[] {1, 20, 21}, new int[] {50, 51, 2}),
        conversation(new int[] {1, 30, 31, 32, 33}, new int[] {60, 61, 62, 63, 2}));
  }

  @Test
  void crossEntropyOnAssistantTokensGoesToZero() throws Exception {
    RunStore store = RunStore.open(tmp, "p", "sft");
    try (Policy policy = Tiny.qwen2();
        SftTrainer sft = SftTrainer.builder(policy)
            .config(TrainConfig.builder().learningRate(1e-2).tokenBudget(12).build())
            .lora(new LoraConfig(8, 16, 0.0), 1)
            .runStore(store).checkpointEvery(10)
            .build()) {
      // the prompt tokens are not trained: the loss is the mean over the 12 reply tokens only
      double first = SftTrainer.samples(tinySet()).stream().mapToInt(Sample::count).sum();
      assertEquals(12, first);
      List<Double> losses = new ArrayList<>();
      for (int s = 0; s < 40; s++) {
        losses.add(sft.train(tinySet()).loss());
      }
      assertTrue(losses.get(0) > 3.0, "starts far from the replies: " + losses.get(0));
      assertTrue(losses.get(39) < 0.05, "ends near zero: " + losses.get(39));
      // checked against an independent evaluation: mean -log p of the reply tokens
      double nll = 0;
      for (TokenSequence s : tinySet()) {
        for (int t = 1; t < s.length(); t++) {
          if (s.sampled()[t]) {
            nll -= Tiny.nextLogprobs(policy, java.util.Arrays.copyOf(s.ids(), t))[s.ids()[t]];
          }
        }
      }
      assertTrue(nll / 12 < 0.05, "policy's own reply NLL " + nll / 12);
      assertEquals(List.of(10, 20, 30, 40), store.checkpointSteps());
      assertEquals(40, store.history().size());
    }
  }

  @Test
  void conversationsThroughTheChatTemplate() throws Exception {
    Path dir = Tiny.model("tiny-chat");
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(dir.resolve("tokenizer_config.json"));
    List<Message> chat = List.of(Message.system("be brief"), Message.user("hi"), Message.assistant("hello"),
        Message.user("2+2?"), Message.assistant("4"));
    try (Policy policy = Policy.load(dir)) {
      Tokenizer tok = policy.tokenizer().orElseThrow();
      TokenSequence seq = SftTrainer.tokenize(template, tok, chat, null);
      assertEquals(template.render(chat, null, false, null), tok.decode(seq.ids()));
      // the trained stretches are exactly each reply and its end-of-turn token
      List<String> spans = new ArrayList<>();
      int t = 0;
      while (t < seq.length()) {
        if (!seq.sampled()[t]) {
          t++;
          continue;
        }
        int start = t;
        while (t < seq.length() && seq.sampled()[t]) {
          t++;
        }
        spans.add(tok.decode(java.util.Arrays.copyOfRange(seq.ids(), start, t)));
      }
      assertEquals(List.of("hello<|im_end|>", "4<|im_end|>"), spans);

      try (SftTrainer sft = SftTrainer.builder(policy)
          .config(TrainConfig.builder().learningRate(1e-2).build()).build()) {
        double first = sft.train(List.of(seq)).loss();
        double last = first;
        for (int s = 0; s < 15; s++) {
          last = sft.train(List.of(seq)).loss();
        }
        assertTrue(last < first / 4, "loss " + first + " -> " + last);
      }
    }
  }

  @Test
  void batchWithoutAssistantTokensIsRejected() {
    TokenSequence promptOnly = new TokenSequence(new int[] {1, 2, 3}, new boolean[3], new float[3]);
    var e = assertThrows(IllegalArgumentException.class, () -> SftTrainer.samples(List.of(promptOnly)));
    assertTrue(e.getMessage().contains("no assistant"), e.getMessage());
  }
}
