package dev.art4j.reward.ruler;

/**
 * The judge's verdict on one trajectory of a group.
 *
 * @param trajectoryId 1-based position of the trajectory in its group (identical trajectories
 *                     get the same score and explanation)
 * @param score        relative score in [0, 1]
 * @param explanation  the judge's reason
 */
public record RulerScore(int trajectoryId, double score, String explanation) {}
