package dev.art4j.examples.tictactoe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.art4j.core.chat.Message;
import dev.art4j.template.ChatTemplate;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.examples.starter.Starter;
import dev.art4j.examples.starter.StarterSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-start gate's legality count on real demonstration tokens with chosen predictions. */
class MoveTokensTest {

  @TempDir static Path cache;
  static Path starter;

  @BeforeAll
  static void base() {
    StarterSpec full = TicTacToeStarter.spec(4);
    StarterSpec untrained = new StarterSpec(full.name(), full.seed(), full.tools(), full.demonstration(),
        full.extraCorpus(), full.shape(), 100, 0, full.fusedTokens());
    starter = Starter.ensure(untrained, cache);
  }

  @Test
  void countsAPredictionLegalOnlyWhenItIsACallOnAFreeCell() throws Exception {
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(starter.resolve("tokenizer_config.json"));
    try (Tokenizer tok = Tokenizer.load(starter)) {
      TicTacToeStarter.MoveTokens moves = new TicTacToeStarter.MoveTokens(tok);
      int firstCall = tok.tokenToId(TicTacToeStarter.callText(1, 1));
      Random rnd = new Random(9);
      for (int game = 0; game < 20; game++) {
        List<Message> d = TicTacToeStarter.demonstration(rnd);
        int[] ids = tok.encode(template.render(d, List.of(TicTacToeGame.moveSpec()), false, Map.of()));
        int calls = (int) d.stream().filter(m -> !m.toolCalls().isEmpty()).count();

        long[] oracle = new long[ids.length]; // predicts every next token: the demonstration's own legal moves
        for (int i = 0; i + 1 < ids.length; i++) {
          oracle[i] = ids[i + 1];
        }
        int[] counted = new int[2];
        moves.countLegal(ids, oracle, counted);
        assertArrayEquals(new int[] {calls, calls}, counted, "every demonstrated move is legal");

        long[] label = oracle.clone(); // a free cell's label is not a move
        for (int i = 0; i < label.length; i++) {
          label[i] = tok.tokenToId(Board.label(1, 1));
        }
        counted = new int[2];
        moves.countLegal(ids, label, counted);
        assertArrayEquals(new int[] {0, calls}, counted);

        long[] always11 = new long[ids.length]; // legal until cell 1 1 is taken by anyone
        java.util.Arrays.fill(always11, firstCall);
        int expected = 0;
        boolean taken = false;
        String you = TicTacToeGame.playedText("You", 1, 1);
        String opp = TicTacToeGame.playedText("Opponent", 1, 1);
        for (Message m : d) {
          if (!m.toolCalls().isEmpty()) {
            expected += taken ? 0 : 1;
            taken |= m.toolCalls().get(0).argumentsJson().equals(TicTacToeStarter.arguments(1, 1));
          }
          taken |= m.content() != null && (m.content().contains(you) || m.content().contains(opp));
        }
        counted = new int[2];
        moves.countLegal(ids, always11, counted);
        assertEquals(expected, counted[0], "calls on 1 1 before it was taken: " + d);
      }
    }
  }
}
