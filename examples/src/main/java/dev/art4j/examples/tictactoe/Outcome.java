package dev.art4j.examples.tictactoe;

/** How a game stands, and the reward each end is worth (win 1, draw 0.5, anything else 0). */
public enum Outcome {
  ONGOING(0.0), WIN(1.0), DRAW(0.5), LOSS(0.0), ILLEGAL_MOVE(0.0);

  private final double reward;

  Outcome(double reward) {
    this.reward = reward;
  }

  public double reward() {
    return reward;
  }

  public boolean isOver() {
    return this != ONGOING;
  }
}
