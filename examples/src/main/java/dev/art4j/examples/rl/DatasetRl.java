package dev.art4j.examples.rl;

import dev.art4j.core.chat.Message;
import dev.art4j.core.chat.Toolset;
import dev.art4j.core.trajectory.Trajectory;
import dev.art4j.examples.dataset.DatasetTask;
import dev.art4j.examples.math.MathStarter;
import dev.art4j.examples.starter.StarterSpec;
import dev.art4j.reward.rule.AnswerMatch;
import dev.art4j.reward.rule.Reward;
import dev.art4j.rollout.agent.AgentLoop;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Question/answer scenarios from a dataset as an {@link RlTask}: the agent answers with the
 * given tools; reward 1 when its final answer matches the reference (numerically when the
 * reference is a number, else as text ignoring case and spacing).
 */
public final class DatasetRl implements RlTask<DatasetTask> {

  private final List<DatasetTask> train;
  private final List<DatasetTask> val;
  private final Toolset tools;
  private volatile Toolset used;
  private final String systemPrompt;

  public DatasetRl(List<DatasetTask> train, List<DatasetTask> val, Toolset tools, String systemPrompt) {
    this.train = train;
    this.val = val;
    this.tools = tools;
    this.used = tools;
    this.systemPrompt = systemPrompt;
  }

  @Override
  public void decorateTools(UnaryOperator<Toolset> decorator) {
    used = decorator.apply(tools);
  }

  @Override
  public String name() {
    return "dataset";
  }

  /** The math starter: a dataset of arithmetic questions runs on it; anything else wants --model. */
  @Override
  public StarterSpec starter(long seed) {
    return MathStarter.spec(seed);
  }

  @Override
  public List<DatasetTask> train() {
    return train;
  }

  @Override
  public List<DatasetTask> val() {
    return val;
  }

  @Override
  public Trajectory rollout(AgentLoop agent, DatasetTask task) throws InterruptedException {
    List<Message> first = systemPrompt == null ? List.of(Message.user(task.question()))
        : List.of(Message.system(systemPrompt), Message.user(task.question()));
    Trajectory t = agent.run(first, used);
    for (Map.Entry<String, Object> e : task.metadata().entrySet()) {
      t = t.withMetadata(e.getKey(), e.getValue());
    }
    AnswerMatch match = isNumber(task.answer())
        ? AnswerMatch.numeric(AnswerMatch.metadata("answer"), 1e-6).relativeTolerance(1e-6)
        : AnswerMatch.exact(AnswerMatch.metadata("answer")).ignoringCase();
    Reward r = match.score(t);
    return t.withReward(r.value()).withMetric("success", r.value() >= 1.0 ? 1.0 : 0.0);
  }

  static boolean isNumber(String s) {
    return s.replace(",", "").strip().matches("[-+]?\\d*\\.?\\d+([eE][-+]?\\d+)?");
  }

  @Override
  public int maxTurns() {
    return 6;
  }

  @Override
  public int maxNewTokens() {
    return 256;
  }

  @Override
  public void close() {
    tools.close();
  }
}
