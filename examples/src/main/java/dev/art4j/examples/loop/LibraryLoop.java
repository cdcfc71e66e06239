package dev.art4j.examples.loop;

import dev.art4j.core.model.LoraConfig;
import dev.art4j.core.model.Policy;
import dev.art4j.core.run.RunStore;
import dev.art4j.core.trajectory.TrajectoryGroup;
import dev.art4j.mcp.toolset.McpToolset;
import dev.art4j.reward.rule.AnswerMatch;
import dev.art4j.reward.rule.RewardFunction;
import dev.art4j.rollout.agent.AgentLoop;
import dev.art4j.rollout.agent.ChatFormat;
import dev.art4j.rollout.completion.SamplingParams;
import dev.art4j.rollout.engine.InferenceEngine;
import dev.art4j.rollout.gather.Gather;
import dev.art4j.train.GrpoTrainer;
import dev.art4j.train.TrainResult;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The README's "The loop in Java", compiled: the whole RL loop as a user writes it with the
 * library alone (policy, MCP toolset, engine, agent, rule reward, seeded gather, GRPO trainer).
 * The README quotes the lines between the {@code README:begin} and {@code README:end} markers,
 * and {@code LibraryLoopTest} runs them on a tiny fixture checkpoint and checks that the README
 * still quotes them exactly.
 */
public final class LibraryLoop {

  /** A question and its numeric answer. */
  public record Task(String question, double answer) {}

  private static final List<Task> TASKS = List.of(
      new Task("What is 17 times 23?", 391), new Task("What is 1024 minus 377?", 647),
      new Task("What is 58 plus 249?", 307), new Task("What is 96 divided by 8?", 12));

  private LibraryLoop() {}

  /** Two tasks per step, round robin over a fixed list. */
  static List<Task> tasks(int step) {
    int i = (2 * (step - 1)) % TASKS.size();
    return List.of(TASKS.get(i), TASKS.get((i + 1) % TASKS.size()));
  }

  /**
   * Trains the checkpoint in {@code modelDir} to answer arithmetic questions with the tools of
   * the math MCP server started by {@code mathServer}, up to {@code lastStep} steps, writing to
   * {@code runs} (project "math", model "agent-001"); a second call resumes where the first ended.
   *
   * @param modelDir   a Hugging Face checkpoint folder with its tokenizer and chat template
   * @param mathServer the command that starts a stdio MCP server with add, subtract, multiply and division
   */
  public static void run(Path modelDir, List<String> mathServer, Path runs, int lastStep, PrintStream out)
      throws Exception {
    // README:begin
    try (Policy policy = Policy.load(modelDir);
         McpToolset tools = McpToolset.builder()
             .stdio("math", mathServer)
             .allow("add", "subtract", "multiply", "division").build();
         InferenceEngine engine = InferenceEngine.builder().policy(policy).build();
         GrpoTrainer trainer = GrpoTrainer.builder(policy)
             .lora(new LoraConfig(8, 16, 0.0), 42)
             .runStore(RunStore.open(runs, "math", "agent-001")).build()) {
      engine.refreshAdapter();                                   // sample from the adapter being trained
      AgentLoop agent = AgentLoop.builder(engine, ChatFormat.load(policy.directory()))
          .systemPrompt("Use the tools to compute the answer.").maxTurns(4)
          .sampling(SamplingParams.builder().temperature(0.8).maxNewTokens(64).build()).build();
      RewardFunction reward = AnswerMatch.numeric(AnswerMatch.metadata("answer"), 1e-6);
      for (int step = trainer.step() + 1; step <= lastStep; step++) {  // resumes from the last checkpoint
        List<TrajectoryGroup> groups = Gather.builder(tasks(step), (Task task, long seed) ->
                reward.apply(agent.withSeed(seed).run(task.question(), tools).withMetadata("answer", task.answer())))
            .seed(step).groupSize(4).maxExceptions(2).progress(null).build().run(); // 4 rollouts a task, seeded
        TrainResult r = trainer.train(groups);                   // GRPO step, checkpoint, history.jsonl
        engine.refreshAdapter();                                 // the next rollout uses the new weights
        out.println(step + " " + r.metrics());
      }
    }
    // README:end
  }
}
