package dev.art4j.examples.starter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.art4j.core.chat.Message;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded starter models: a tiny Qwen2 checkpoint made on this machine, with no download,
 * for examples and tests. {@link #ensure} returns a folder in Hugging Face layout that the library
 * loads like any checkpoint:
 *
 * <pre>
 * ~/.cache/art4j/starters/&lt;name&gt;-&lt;hash&gt;/
 *   tokenizer.json           byte-level BPE learned on the task's texts (every task word one token,
 *                            one token per digit), ChatML and tool-call markup as added tokens
 *   tokenizer_config.json    the compact ChatML chat template (tool names only), eos &lt;|im_end|&gt;
 *   config.json              Qwen2 architecture, tied embeddings
 *   model.safetensors        the weights after the SFT warm start (F32)
 *   generation_config.json   eos ids
 *   demonstrations.jsonl     the SFT conversations (OpenAI message format)
 *   starter.json             the spec, the hash, and the warm start's figures
 * </pre>
 *
 * <p>The hash covers the spec and a sample of its demonstrations, so a changed task builds a new
 * starter. A build runs in a temporary folder renamed into place when complete, under a file lock
 * so two processes never build the same starter at once.
 */
public final class Starter {

  private static final Logger log = LoggerFactory.getLogger(Starter.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** Bumped whenever the build recipe changes, so old caches are not reused. */
  static final int RECIPE = 3;

  private Starter() {}

  /** The starter's folder, built first if it is not in the cache yet. */
  public static Path ensure(StarterSpec spec) {
    return ensure(spec, cacheRoot().resolve("starters"));
  }

  /** As {@link #ensure(StarterSpec)} with an explicit cache folder (tests). */
  public static Path ensure(StarterSpec spec, Path startersDir) {
    Path dir = startersDir.resolve(spec.name() + "-" + hash(spec));
    if (Files.isRegularFile(dir.resolve("starter.json"))) {
      return dir;
    }
    try {
      Files.createDirectories(startersDir);
      try (FileChannel lockFile = FileChannel.open(startersDir.resolve(dir.getFileName() + ".lock"),
               StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           FileLock ignored = lockFile.lock()) {
        if (Files.isRegularFile(dir.resolve("starter.json"))) {
          return dir; // another process built it while we waited
        }
        Path tmp = startersDir.resolve(".tmp-" + dir.getFileName());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        long t0 = System.nanoTime();
        log.info("building starter '{}' in {} (first use; cached afterwards)", spec.name(), dir);
        build(spec, tmp);
        deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        log.info("starter '{}' ready in {} s", spec.name(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build starter " + dir, e);
    }
    return dir;
  }

  /**
   * The art4j cache folder: system property {@code art4j.cache}, else {@code $ART4J_CACHE}, else
   * {@code $XDG_CACHE_HOME/art4j}, else {@code ~/.cache/art4j}.
   */
  public static Path cacheRoot() {
    String prop = System.getProperty("art4j.cache");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv("ART4J_CACHE");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("art4j");
  }

  /** The demonstrations of {@code spec}, in order (the first {@code n} draws of its seeded generator). */
  public static List<List<Message>> demonstrations(StarterSpec spec, int n) {
    Random rnd = new Random(spec.seed());
    List<List<Message>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(spec.demonstration().apply(rnd));
    }
    return out;
  }

  /** Writes every file of the starter into {@code dir} (the base checkpoint, then the warm start). */
  static void build(StarterSpec spec, Path dir) throws IOException {
    List<List<Message>> demos = demonstrations(spec, spec.demonstrations());
    writeBase(spec, demos, dir);
    ObjectNode info = JSON.createObjectNode();
    info.put("name", spec.name());
    info.put("hash", hash(spec));
    info.put("seed", spec.seed());
    info.put("recipe", RECIPE);
    info.putPOJO("shape", spec.shape());
    info.put("demonstrations", spec.demonstrations());
    info.put("sft_steps", spec.sftSteps());
    info.set("warm_start", WarmStart.run(spec, demos, dir));
    Files.writeString(dir.resolve("starter.json"), JSON.writeValueAsString(info), StandardCharsets.UTF_8);
  }

  /** Tokenizer, template, config and random weights: the checkpoint before the warm start. */
  static void writeBase(StarterSpec spec, List<List<Message>> demos, Path dir) throws IOException {
    List<String> corpus = new ArrayList<>();
    for (List<Message> d : demos) {
      corpus.add(CompactChatMl.render(d, spec.tools(), false));
    }
    corpus.addAll(spec.extraCorpus());
    List<String> added = new ArrayList<>(CompactChatMl.addedTokens(spec.fusedTokens()).keySet());
    ByteLevelBpe bpe = ByteLevelBpe.learn(corpus, added);
    int firstAdded = bpe.baseVocabSize();
    int vocab = firstAdded + added.size();
    int eos = firstAdded + added.indexOf(CompactChatMl.IM_END);
    int pad = firstAdded + added.indexOf(CompactChatMl.END_OF_TEXT);

    write(dir.resolve("tokenizer.json"), bpe.tokenizerJson(JSON, CompactChatMl.addedTokens(spec.fusedTokens())));
    write(dir.resolve("tokenizer_config.json"), CompactChatMl.tokenizerConfig(JSON, firstAdded));
    write(dir.resolve("config.json"), RandomQwen2.config(JSON, spec.shape(), vocab, eos, pad));
    ObjectNode gen = JSON.createObjectNode();
    gen.putArray("eos_token_id").add(eos).add(pad);
    gen.put("pad_token_id", pad);
    write(dir.resolve("generation_config.json"), gen);
    RandomQwen2.writeSafetensors(dir.resolve("model.safetensors"),
        baseWeights(spec, vocab, t -> firstAdded + added.indexOf(t)));

    StringBuilder jsonl = new StringBuilder();
    ObjectMapper compact = new ObjectMapper();
    for (List<Message> d : demos) {
      ObjectNode line = compact.createObjectNode();
      line.set("messages", compact.valueToTree(d));
      line.set("tools", compact.valueToTree(spec.tools()));
      jsonl.append(compact.writeValueAsString(line)).append('\n');
    }
    Files.writeString(dir.resolve("demonstrations.jsonl"), jsonl, StandardCharsets.UTF_8);
  }

  /**
   * The random weights before the warm start (which regenerates them to merge into), with
   * the spec's related tokens ({@code idOf} gives an added token's id) sharing a component.
   */
  static Map<String, RandomQwen2.Tensor> baseWeights(StarterSpec spec, int vocab, ToIntFunction<String> idOf) {
    Map<String, RandomQwen2.Tensor> w = RandomQwen2.weights(spec.shape(), vocab, weightSeed(spec));
    if (!spec.relatedTokens().isEmpty()) {
      List<int[]> families = spec.relatedTokens().stream().map(f -> f.stream().mapToInt(idOf).toArray()).toList();
      RandomQwen2.relate(w, families, weightSeed(spec) + 1);
    }
    return w;
  }

  /** The seed of the random base weights. */
  static long weightSeed(StarterSpec spec) {
    return spec.seed() ^ 0x5eedL;
  }

  /** First 12 hex digits of SHA-256 over the recipe, the spec's numbers and sample demonstrations. */
  static String hash(StarterSpec spec) {
    StringBuilder sb = new StringBuilder();
    sb.append("recipe ").append(RECIPE).append('\n').append(spec.name()).append('\n').append(spec.seed()).append('\n')
        .append(spec.shape()).append('\n').append(spec.demonstrations()).append(' ').append(spec.sftSteps()).append('\n')
        .append(CompactChatMl.TEMPLATE).append('\n').append(String.join("\n", spec.extraCorpus())).append('\n');
    if (!spec.fusedTokens().isEmpty()) {
      sb.append("fused ").append(String.join("\n", spec.fusedTokens())).append('\n');
    }
    if (!spec.relatedTokens().isEmpty()) {
      sb.append("related ").append(spec.relatedTokens()).append(" shared ").append(RandomQwen2.SHARED).append('\n');
    }
    if (spec.gate() != null) {
      WarmStartGate g = spec.gate();
      sb.append("gate ").append(g.metric()).append(' ').append(g.target()).append(' ').append(g.every()).append(' ')
          .append(g.maxSteps()).append(' ').append(g.heldOut()).append('\n');
    }
    if (!spec.phaseEnds().equals(StarterSpec.DEFAULT_PHASE_ENDS)) {
      sb.append("phases ").append(spec.phaseEnds()).append('\n'); // only when set: older hashes stay valid
    }
    for (List<Message> d : demonstrations(spec, 16)) {
      sb.append(CompactChatMl.render(d, spec.tools(), false));
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void write(Path file, ObjectNode node) throws IOException {
    Files.writeString(file, JSON.writeValueAsString(node), StandardCharsets.UTF_8);
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
