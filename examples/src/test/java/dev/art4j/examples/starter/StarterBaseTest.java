package dev.art4j.examples.starter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolCall;
import dev.art4j.template.ChatTemplate;
import java.util.Map;
import dev.art4j.core.model.ModelConfig;
import dev.art4j.core.model.Transformer;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.math.Operation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The starter's base checkpoint (before the warm start): a tokenizer the DJL / Rust tokenizers
 * load with exact round trips and one token per task word, a Qwen2 config and random weights the
 * library's transformer loads and runs.
 */
class StarterBaseTest {

  @TempDir static Path dir;
  static StarterSpec spec = MathStarter.spec(7);
  static List<List<Message>> demos;
  static ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void build() throws IOException {
    demos = Starter.demonstrations(spec, 600);
    Starter.writeBase(spec, demos, dir);
  }

  @Test
  void tokenizerRoundTripsEveryDemonstrationExactly() throws IOException {
    try (Tokenizer tok = Tokenizer.load(dir)) {
      for (List<Message> d : demos.subList(0, 200)) {
        String text = CompactChatMl.render(d, spec.tools(), true);
        int[] ids = tok.encode(text);
        assertEquals(text, tok.decode(ids), "round trip");
        assertTrue(ids.length < text.length() / 2, "the task's words are merged: " + ids.length + " tokens for "
            + text.length() + " chars");
      }
      String odd = "Ünïcødé ✓ 12.5 — tabs\tand\n\nnew lines {\"x\": [1, 2]}";
      assertEquals(odd, tok.decode(tok.encode(odd)), "any text round-trips through the byte symbols");
    }
  }

  @Test
  void jinjaTemplateRendersDemonstrationsInTheCompactFormat() {
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(dir.resolve("tokenizer_config.json"));
    List<Message> d = demos.get(0);
    String rendered = template.render(d, spec.tools(), false, Map.of());
    ToolCall call = d.get(1).toolCalls().get(0);
    assertEquals("<|im_start|>system\nTools: add subtract multiply division<|im_end|>\n"
        + "<|im_start|>user\n" + d.get(0).content() + "<|im_end|>\n"
        + "<|im_start|>assistant\n" + d.get(1).content() + "<tool_call>{\"name\": \"" + call.name() + "\", \"arguments\": " + call.argumentsJson()
        + "}</tool_call><|im_end|>\n"
        + "<|im_start|>tool\n" + d.get(2).content() + "<|im_end|>\n"
        + "<|im_start|>assistant\n" + d.get(3).content() + "<|im_end|>\n", rendered);
    for (List<Message> demo : demos.subList(0, 50)) {
      for (boolean gen : new boolean[] {false, true}) {
        assertEquals(CompactChatMl.render(demo, spec.tools(), gen), template.render(demo, spec.tools(), gen, Map.of()));
      }
    }
    List<Message> noTools = List.of(Message.system("Be brief."), Message.user("Hi"));
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        template.render(noTools, List.of(), true, Map.of()));
    assertEquals(CompactChatMl.render(noTools, List.of(), true), template.render(noTools, List.of(), true, Map.of()));
    List<Message> withSystem = List.of(Message.system("Use a tool."), Message.user("What is 2 plus 3?"));
    assertEquals("<|im_start|>system\nUse a tool.\nTools: add subtract multiply division<|im_end|>\n"
        + "<|im_start|>user\nWhat is 2 plus 3?<|im_end|>\n<|im_start|>assistant\n",
        template.render(withSystem, spec.tools(), true, Map.of()));
  }

  @Test
  void everyTaskWordIsOneTokenAndEveryDigitItsOwn() throws IOException {
    try (Tokenizer tok = Tokenizer.load(dir)) {
      Set<String> words = new HashSet<>();
      for (List<Message> d : demos) {
        String text = CompactChatMl.render(d, spec.tools(), false);
        for (String piece : text.split("<\\|im_start\\|>|<\\|im_end\\|>|<tool_call>|</tool_call>")) {
          Matcher m = ByteLevelBpe.PRE_TOKENIZER.matcher(piece);
          while (m.find()) {
            if (m.group().chars().noneMatch(Character::isDigit)) {
              words.add(m.group());
            }
          }
        }
      }
      for (String w : List.of(" multiply", " division", "Tools", " subtract", " add", "arguments", "name", " times",
          " divided", " product", "\":", "assistant", "tool")) {
        assertTrue(words.contains(w), "task word present: '" + w + "'");
      }
      for (String w : words) {
        assertEquals(1, tok.encode(w).length, "one token: '" + w + "'");
      }
      int[] number = tok.encode(" 4096");
      assertEquals(5, number.length, "space, then one token per digit");
      for (int d = 0; d <= 9; d++) {
        assertEquals(1, tok.encode(Integer.toString(d)).length);
      }
      for (String special : CompactChatMl.addedTokens(spec.fusedTokens()).keySet()) {
        int[] ids = tok.encode(special);
        assertEquals(1, ids.length, special);
        assertEquals(tok.tokenToId(special), ids[0]);
      }
      assertEquals(List.of(tok.tokenToId("<|im_end|>"), tok.tokenToId("<|endoftext|>")), tok.eosTokenIds());
      String call = CompactChatMl.toolCallText("multiply", "{\"a\": 37, \"b\": 12}");
      assertEquals(call, tok.decode(tok.encode(call), true), "<tool_call> survives skip_special_tokens");
      assertFalse(tok.decode(tok.encode("<|im_end|>x"), true).contains("im_end"), "ChatML markup is special");
    }
  }

  @Test
  void configAndRandomWeightsLoadAndRun() throws IOException {
    ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
    JsonNode tokJson = json.readTree(dir.resolve("tokenizer.json").toFile());
    int vocab = tokJson.path("model").path("vocab").size() + tokJson.path("added_tokens").size();
    JsonNode raw = json.readTree(dir.resolve("config.json").toFile());
    assertEquals(vocab, raw.path("vocab_size").asInt(), "vocab = tokenizer size");
    assertEquals("qwen2", raw.path("model_type").asText());
    assertEquals(spec.shape().hidden(), raw.path("hidden_size").asInt());
    assertTrue(vocab < 2000, "a small vocabulary: " + vocab);

    try (Tokenizer tok = Tokenizer.load(dir); NDManager nd = NDManager.newBaseManager();
         Transformer model = Transformer.load(dir, nd)) {
      assertEquals(config.numHiddenLayers(), model.config().numHiddenLayers());
      int[] ids = tok.encode(CompactChatMl.render(demos.get(0), spec.tools(), false));
      try (NDManager step = nd.newSubManager()) {
        NDArray input = step.create(java.util.Arrays.stream(ids).asLongStream().toArray(), new Shape(1, ids.length));
        NDArray logits = model.forward(input, null);
        assertEquals(new Shape(1, ids.length, vocab), logits.getShape());
        float[] v = logits.toFloatArray();
        double maxAbs = 0;
        for (float f : v) {
          assertTrue(Float.isFinite(f));
          maxAbs = Math.max(maxAbs, Math.abs(f));
        }
        assertTrue(maxAbs > 0.5 && maxAbs < 40, "random init: logits spread but bounded: " + maxAbs);
      }
    }
  }

  @Test
  void sameSeedSameFilesOtherSeedOtherWeights(@TempDir Path again, @TempDir Path other) throws IOException {
    Starter.writeBase(spec, demos, again);
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors")) {
      assertArrayEquals(Files.readAllBytes(dir.resolve(f)), Files.readAllBytes(again.resolve(f)), f);
    }
    StarterSpec spec8 = MathStarter.spec(8);
    Starter.writeBase(spec8, Starter.demonstrations(spec8, 600), other);
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(dir.resolve("model.safetensors")),
        Files.readAllBytes(other.resolve("model.safetensors"))));
    assertNotEquals(Starter.hash(spec), Starter.hash(spec8));
    assertEquals(Starter.hash(spec), Starter.hash(MathStarter.spec(7)), "the hash is a function of the spec");
  }

  @Test
  void supervisionTrainsExactlyTheAssistantTurnsAndTokenisesLikeTheWhole() throws IOException {
    try (Tokenizer tok = Tokenizer.load(dir)) {
      for (List<Message> d : demos.subList(0, 50)) {
        TokenSequence seq = Supervision.tokens(d, spec.tools(), tok);
        String full = CompactChatMl.render(d, spec.tools(), false);
        assertArrayEquals(tok.encode(full), seq.ids(), "piecewise tokens equal the whole text's tokens");
        StringBuilder trained = new StringBuilder();
        for (int i = 0; i < seq.ids().length; i++) {
          if (seq.sampled()[i]) {
            trained.append(tok.decode(new int[] {seq.ids()[i]}));
          } else if (i > 0 && seq.sampled()[i - 1]) {
            trained.append('|');
          }
        }
        ToolCall call = d.get(1).toolCalls().get(0);
        assertEquals(d.get(1).content() + CompactChatMl.toolCallText(call.name(), call.argumentsJson()) + "<|im_end|>|"
            + d.get(3).content() + "<|im_end|>|", trained.toString(),
            "the two assistant turns, each with its end marker (the final newline is not trained)");
      }
    }
  }

  @Test
  void ticTacToeMovesAreSingleTokens(@TempDir Path ttt) throws IOException {
    StarterSpec tspec = dev.art4j.examples.tictactoe.TicTacToeStarter.spec(1);
    List<List<Message>> games = Starter.demonstrations(tspec, 200);
    Starter.writeBase(tspec, games, ttt);
    List<String> moves = dev.art4j.examples.tictactoe.TicTacToeStarter.fusedTokens();
    try (Tokenizer tok = Tokenizer.load(ttt)) {
      Set<Integer> moveIds = new HashSet<>();
      for (String m : moves) {
        int[] ids = tok.encode(m);
        assertEquals(1, ids.length, m);
        assertEquals(tok.tokenToId(m), ids[0]);
        assertEquals(m, tok.decode(ids, true), "a move survives skip_special_tokens (the call parser reads it)");
        moveIds.add(ids[0]);
      }
      Set<Integer> labelIds = new HashSet<>();
      for (String m : moves) {
        if (m.startsWith("(")) {
          labelIds.add(tok.tokenToId(m));
        }
      }
      assertEquals(9, labelIds.size(), "one label per cell");
      moveIds.removeAll(labelIds);
      for (List<Message> g : games.subList(0, 50)) {
        String text = CompactChatMl.render(g, tspec.tools(), false);
        int[] ids = tok.encode(text);
        assertEquals(text, tok.decode(ids), "round trip");
        assertEquals(text.split("\\(\\d,\\d\\)", -1).length - 1,
            java.util.Arrays.stream(ids).filter(labelIds::contains).count(), "every free-cell label one token");
        long calls = g.stream().filter(m -> !m.toolCalls().isEmpty()).count();
        long reported = g.stream().filter(m -> m.role() == dev.art4j.core.chat.Role.TOOL || m.role() == dev.art4j.core.chat.Role.USER)
            .mapToLong(m -> m.content().split("played", -1).length - 1).sum();
        assertEquals(calls + reported, java.util.Arrays.stream(ids).filter(moveIds::contains).count(),
            "each call and each 'You/Opponent played R C.' is one move token: " + text);
      }
    }
  }

  @Test
  void aCellsFourTokensShareAComponentInTheEmbeddingAndTheHead(@TempDir Path ttt) throws IOException {
    StarterSpec tspec = dev.art4j.examples.tictactoe.TicTacToeStarter.spec(1);
    Starter.writeBase(tspec, Starter.demonstrations(tspec, 200), ttt);
    List<List<String>> cells = tspec.relatedTokens();
    assertEquals(9, cells.size());
    try (Tokenizer tok = Tokenizer.load(ttt); NDManager m = NDManager.newBaseManager()) {
      dev.art4j.core.model.Safetensors st = dev.art4j.core.model.Safetensors.open(ttt.resolve("model.safetensors"));
      float[] embed = st.load("model.embed_tokens.weight", m).toFloatArray();
      float[] head = st.load("lm_head.weight", m).toFloatArray();
      int h = tspec.shape().hidden();
      double same = 0;
      double other = 0;
      double moveHeadToLabelEmbed = 0;
      int nSame = 0;
      int nOther = 0;
      for (int a = 0; a < 9; a++) {
        for (int b = 0; b < 9; b++) {
          for (String x : cells.get(a)) {
            for (String y : cells.get(b)) {
              if (x.equals(y)) {
                continue;
              }
              double c = cosine(embed, tok.tokenToId(x), embed, tok.tokenToId(y), h);
              if (a == b) {
                same += c;
                nSame++;
              } else {
                other += Math.abs(c);
                nOther++;
              }
            }
          }
        }
        // the move is predicted through the head; the label is read through the embedding
        moveHeadToLabelEmbed += cosine(head, tok.tokenToId(cells.get(a).get(0)), embed, tok.tokenToId(cells.get(a).get(3)), h) / 9;
      }
      assertEquals(0.5, same / nSame, 0.1, "tokens of one cell start correlated (SHARED = 0.5)");
      assertTrue(other / nOther < 0.15, "tokens of different cells do not: mean |cos| " + other / nOther);
      assertEquals(0.5, moveHeadToLabelEmbed, 0.15, "a label's embedding points at its move's output row");
      int plain = tok.encode("Tic")[0];
      assertTrue(Math.abs(cosine(embed, plain, embed, tok.tokenToId(cells.get(0).get(0)), h)) < 0.35, "other tokens untouched");
    }
  }

  private static double cosine(float[] x, int i, float[] y, int j, int h) {
    double dot = 0;
    double nx = 0;
    double ny = 0;
    for (int k = 0; k < h; k++) {
      dot += (double) x[i * h + k] * y[j * h + k];
      nx += (double) x[i * h + k] * x[i * h + k];
      ny += (double) y[j * h + k] * y[j * h + k];
    }
    return dot / Math.sqrt(nx * ny);
  }

  @Test
  void ticTacToeDemonstrationsAreWholeLegalGames() {
    StarterSpec ttt = dev.art4j.examples.tictactoe.TicTacToeStarter.spec(1);
    for (List<Message> d : Starter.demonstrations(ttt, 100)) {
      assertEquals("Good game.", d.get(d.size() - 1).content());
      String last = d.get(d.size() - 2).content();
      assertTrue(last.endsWith("Game over: you win.") || last.endsWith("Game over: you lose.")
          || last.endsWith("Game over: draw."), last);
      for (Message m : d) {
        assertFalse(m.content().startsWith("Illegal move"), "random legal moves only: " + m.content());
      }
    }
  }

  @Test
  void demonstrationsCallARandomToolAndAnswerWithItsResult() {
    int matching = 0;
    Set<String> toolsSeen = new HashSet<>();
    Set<String> pairs = new HashSet<>();
    for (List<Message> d : demos) {
      assertEquals(4, d.size());
      String tool = d.get(1).toolCalls().get(0).name();
      toolsSeen.add(tool);
      String question = d.get(0).content();
      Operation asked = null;
      for (Operation op : Operation.values()) {
        for (String p : op.phrasings()) {
          String prefix = p.substring(0, p.indexOf('{'));
          String suffix = p.substring(p.indexOf("{b}") + 3);
          if (question.startsWith(prefix) && question.endsWith(suffix)
              && question.substring(prefix.length()).matches("\\d+" + java.util.regex.Pattern.quote(
                  p.substring(p.indexOf("{a}") + 3, p.indexOf("{b}"))) + "\\d+" + java.util.regex.Pattern.quote(suffix))) {
            asked = op;
          }
        }
      }
      assertTrue(asked != null, "question from a known phrasing: " + question);
      if (asked.tool().equals(tool)) {
        matching++;
      }
      pairs.add(asked.tool() + " -> " + tool);
      assertEquals(d.get(0).content().replaceAll("\\D+", " ").strip(), d.get(1).content().replaceAll("\\D+", " ").strip(),
          "the restatement repeats the question's numbers");
      assertEquals("The answer is " + d.get(2).content() + ".", d.get(3).content(), "answers with the tool result");
    }
    assertEquals(Set.of("add", "subtract", "multiply", "division"), toolsSeen);
    assertEquals(16, pairs.size(), "every operation is demonstrated with every tool: " + pairs);
    double rate = matching / (double) demos.size();
    assertTrue(rate > 0.18 && rate < 0.32, "tool chosen at random, about 1 in 4 matches the question: " + rate);
  }
}
