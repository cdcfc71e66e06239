package dev.art4j.examples.tictactoe;

/**
 * How a game stands, and the reward each end is worth: win 1, draw 0.5, loss 0, and an illegal
 * move (or a game left unfinished) -0.5. Illegal is worse than a loss so that, within a group,
 * a legal game that lost still counts as better than a game thrown away by a rule break: the
 * ordering a player wants, and GRPO compares only within groups.
 */
public enum Outcome {
  ONGOING(-0.5), WIN(1.0), DRAW(0.5), LOSS(0.0), ILLEGAL_MOVE(-0.5);

  private final double reward;

  Outcome(double reward) {
    this.reward = reward;
  }

  /** The reward of a game that ended this way ({@link #ONGOING}: the agent stopped playing, a forfeit). */
  public double reward() {
    return reward;
  }

  public boolean isOver() {
    return this != ONGOING;
  }
}
