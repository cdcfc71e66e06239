package dev.art4j.examples.starter;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.ToolSpec;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Function;

/**
 * What an embedded starter model is made of: its task's tools and demonstrations, the model's
 * shape, and how long the SFT warm start runs. Everything is derived from {@code seed}, so one
 * spec always builds the same starter (and the cache folder's name is a hash of the spec).
 *
 * @param name           folder-name prefix, e.g. {@code math}
 * @param seed           seeds the demonstrations, the tokenizer corpus, the weights and the SFT
 * @param tools          the tools the system prompt lists (names only)
 * @param demonstration  one demonstration conversation (user task, assistant tool call, tool
 *                       result, assistant answer) drawn from the given random source
 * @param extraCorpus    more texts whose words must be single tokens (e.g. scenario phrasings
 *                       that demonstrations might not all show)
 * @param shape          the Qwen2 model's size
 * @param demonstrations how many demonstrations the SFT warm start trains on
 * @param sftSteps       how many SFT optimizer steps the warm start runs
 * @param fusedTokens    extra added tokens (not special), e.g. {@code " *<tool_call>{\"name\": \""}: text
 *                       fused with the call prefix so that the token right before a tool name
 *                       carries what the task is about (see {@code MathStarter#restatement})
 * @param phaseEnds      where each of the warm start's three learning-rate phases (2e-3, 1e-3,
 *                       3e-4) ends, as fractions of {@code sftSteps}; the last is 1
 * @param relatedTokens  families of added tokens that name one thing in different roles (the four
 *                       tokens of one board cell: the move, {@code You played}, {@code Opponent
 *                       played}, the free-cell label); their embedding and output-head rows share
 *                       a random component (see {@code RandomQwen2#relate})
 * @param gate           when the warm start may stop, or null to stop after {@code sftSteps}
 */
public record StarterSpec(
    String name,
    long seed,
    List<ToolSpec> tools,
    Function<Random, List<Message>> demonstration,
    List<String> extraCorpus,
    Shape shape,
    int demonstrations,
    int sftSteps,
    List<String> fusedTokens,
    List<Double> phaseEnds,
    List<List<String>> relatedTokens,
    WarmStartGate gate) {

  /** The warm start's default phases: 60% of the steps at 2e-3, 25% at 1e-3, 15% at 3e-4. */
  public static final List<Double> DEFAULT_PHASE_ENDS = List.of(0.6, 0.85, 1.0);

  /** A spec with the default learning-rate phases. */
  public StarterSpec(String name, long seed, List<ToolSpec> tools, Function<Random, List<Message>> demonstration,
      List<String> extraCorpus, Shape shape, int demonstrations, int sftSteps, List<String> fusedTokens) {
    this(name, seed, tools, demonstration, extraCorpus, shape, demonstrations, sftSteps, fusedTokens, DEFAULT_PHASE_ENDS,
        List.of(), null);
  }

  /** A spec without fused tokens. */
  public StarterSpec(String name, long seed, List<ToolSpec> tools, Function<Random, List<Message>> demonstration,
      List<String> extraCorpus, Shape shape, int demonstrations, int sftSteps) {
    this(name, seed, tools, demonstration, extraCorpus, shape, demonstrations, sftSteps, List.of(), DEFAULT_PHASE_ENDS,
        List.of(), null);
  }

  public StarterSpec {
    fusedTokens = fusedTokens == null ? List.of() : List.copyOf(fusedTokens);
    phaseEnds = phaseEnds == null ? DEFAULT_PHASE_ENDS : List.copyOf(phaseEnds);
    relatedTokens = relatedTokens == null ? List.of() : relatedTokens.stream().map(List::copyOf).toList();
    for (List<String> family : relatedTokens) {
      if (!fusedTokens.containsAll(family)) {
        throw new IllegalArgumentException("related tokens must be fused tokens of the spec: " + family);
      }
    }
    if (phaseEnds.size() != 3 || phaseEnds.get(2) != 1.0 || phaseEnds.get(0) > phaseEnds.get(1)
        || phaseEnds.get(1) > 1.0 || phaseEnds.get(0) <= 0) {
      throw new IllegalArgumentException("phaseEnds must be 3 increasing fractions ending at 1, got " + phaseEnds);
    }
    Objects.requireNonNull(name, "name");
    if (!name.matches("[a-z0-9-]+")) {
      throw new IllegalArgumentException("starter name must be lower-case letters, digits and '-': " + name);
    }
    tools = List.copyOf(tools);
    Objects.requireNonNull(demonstration, "demonstration");
    extraCorpus = extraCorpus == null ? List.of() : List.copyOf(extraCorpus);
    Objects.requireNonNull(shape, "shape");
    if (demonstrations < 1 || sftSteps < 0) {
      throw new IllegalArgumentException("need demonstrations >= 1 and sftSteps >= 0");
    }
    if (gate != null && gate.maxSteps() < sftSteps) {
      throw new IllegalArgumentException("gate.maxSteps " + gate.maxSteps() + " < sftSteps " + sftSteps);
    }
  }

  /**
   * The Qwen2 model's size.
   *
   * @param hidden       hidden size (a multiple of {@code heads})
   * @param layers       decoder layers
   * @param heads        attention heads
   * @param kvHeads      key/value heads (grouped-query attention; divides {@code heads})
   * @param intermediate SwiGLU MLP width
   * @param maxPositions longest sequence the config declares
   */
  public record Shape(int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
    public Shape {
      if (hidden % heads != 0 || heads % kvHeads != 0 || layers < 1) {
        throw new IllegalArgumentException("inconsistent model shape: hidden " + hidden + ", heads " + heads
            + ", kv heads " + kvHeads + ", layers " + layers);
      }
    }
  }
}
