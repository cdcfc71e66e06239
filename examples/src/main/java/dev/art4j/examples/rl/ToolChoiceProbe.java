package dev.art4j.examples.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.art4j.core.chat.Message;
import dev.art4j.core.model.Lora;
import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.tokenizer.Tokenizer;
import dev.art4j.core.trajectory.TokenSequence;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.examples.math.MathProblem;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.math.Operation;
import dev.art4j.examples.starter.Starter;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainConfig;
import dev.art4j.train.TrainResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Diagnostic: P(tool | question) at the tool-name position, per operation, measured with a
 * forward pass, before and after GRPO steps on chosen operations. Args: mode (one|mixed), steps, lr, rank.
 */
final class ToolChoiceProbe {
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "mixed";
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    double lr = args.length > 2 ? Double.parseDouble(args[2]) : 2e-3;
    int rank = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    int groups = args.length > 4 ? Integer.parseInt(args[4]) : 4;
    System.setProperty("ai.djl.pytorch.num_threads", "1");
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Path model = Starter.ensure(MathStarter.spec(0));
    MathRl task = new MathRl(1, 2000, 100);
    try (task; Policy policy = Policy.load(model)) {
      Tokenizer tok = policy.tokenizer().orElseThrow();
      ChatFormat format = ChatFormat.load(model);
      int[] toolIds = MathStarter.TOOLS.stream().mapToInt(tok::tokenToId).toArray();
      System.out.println("tool ids " + java.util.Arrays.toString(toolIds));
      measure("warm start", policy, tok, format, task.val(), toolIds, null);
      RunStore store = RunStore.open(Files.createTempDirectory("probe"));
      TrainConfig config = TrainConfig.builder().learningRate(lr).maxGradNorm(1.0).seed(1).build();
      try (GrpoTrainer trainer = GrpoTrainer.builder(policy).config(config).runStore(store)
               .lora(new LoraConfig(rank, 2.0 * rank, 0.0), 1).build();
           InferenceEngine engine = InferenceEngine.builder().policy(policy).seed(1).build()) {
        engine.refreshAdapter();
        AgentLoop sampler = AgentLoop.builder(engine, format).maxTurns(3).maxTokens(1024)
            .sampling(SamplingParams.builder().temperature(1.0).maxNewTokens(48).build()).build();
        List<MathProblem> pool = new ArrayList<>();
        for (MathProblem p : task.train()) {
          if (mode.equals("mixed") || p.operation().tool().equals(mode)) {
            pool.add(p);
          }
        }
        if (mode.equals("balanced")) {
          pool.clear();
          List<List<MathProblem>> byOp = new ArrayList<>();
          for (Operation op : Operation.values()) {
            byOp.add(task.train().stream().filter(p -> p.operation() == op).toList());
          }
          for (int i = 0; i < 400; i++) {
            pool.add(byOp.get(i % 4).get(i / 4));
          }
        }
        boolean checked = mode.equals("balanced");
        for (int step = 1; step <= steps; step++) {
          List<MathProblem> batch = pool.subList((step - 1) * groups, step * groups);
          List<TrajectoryGroup> gs = Gather.builder(batch, (MathProblem s) -> task.rollout(sampler, s))
              .groupSize(8).concurrency(8 * groups).progress(null).build().run();
          if (!checked) {
            checked = true;
            check(gs.get(0), tok);
          }
          TrainResult r = trainer.train(gs);
          engine.refreshAdapter();
          double succ = gs.stream().flatMap(g -> g.trajectories().stream()).mapToDouble(Trajectory::reward).average().orElse(0);
          System.out.printf(Locale.ROOT, "step %d train reward %.3f loss %s%n", step, succ, r.skipped() ? r.note() : r.loss());
          measure("after step " + step, policy, tok, format, task.val(), toolIds, policy.adapter());
        }
      }
    }
  }

  /** The tool-name token of each trajectory: in the trained mask with a logprob? And its reward. */
  static void check(TrajectoryGroup g, Tokenizer tok) {
    for (Trajectory t : g.trajectories()) {
      TokenSequence s = t.tokens();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < s.ids().length; i++) {
        String piece = tok.decode(new int[] {s.ids()[i]});
        if (MathStarter.TOOLS.contains(piece.trim())) {
          sb.append(piece).append(" sampled=").append(s.sampled()[i]).append(" lp=").append(s.logprobs()[i]).append("; ");
        }
      }
      System.out.println("  reward " + t.reward() + " q=" + t.messages().get(0).content() + " :: " + sb);
    }
  }

  static void measure(String label, Policy policy, Tokenizer tok, ChatFormat format, List<MathProblem> val,
      int[] toolIds, Lora adapter) {
    double[][] p = new double[4][5];
    int[] n = new int[4];
    try (NDManager m = policy.manager().newSubManager()) {
      for (MathProblem q : val) {
        List<Message> conv = List.of(Message.user(q.question()));
        String prompt = format.template().render(conv, MathStarter.toolSpecs(), true, java.util.Map.of()); // the checkpoint's own template
        int[] a = tok.encode(prompt);
        int[] b = tok.encode(MathStarter.restatement(q) + "<tool_call>{\"name\": \"");
        long[] ids = new long[a.length + b.length];
        for (int i = 0; i < a.length; i++) ids[i] = a[i];
        for (int i = 0; i < b.length; i++) ids[a.length + i] = b[i];
        NDArray x = m.create(ids).reshape(1, ids.length);
        NDArray logits = policy.model().forward(x, adapter); // (1, T, V)
        float[] last = logits.get("0, -1").softmax(0).toFloatArray();
        int op = q.operation().ordinal();
        n[op]++;
        double tot = 0;
        for (int k = 0; k < 4; k++) {
          p[op][k] += last[toolIds[k]];
          tot += last[toolIds[k]];
        }
        p[op][4] += tot;
      }
    }
    StringBuilder sb = new StringBuilder(label + ":");
    for (Operation op : Operation.values()) {
      int o = op.ordinal();
      sb.append(String.format(Locale.ROOT, "  %s[n=%d] P(correct)=%.2f (", op.symbol(), n[o], p[o][o] / n[o]));
      for (int k = 0; k < 4; k++) sb.append(String.format(Locale.ROOT, "%.2f ", p[o][k] / n[o]));
      sb.append(")");
    }
    System.out.println(sb);
  }
}
