package dev.art4j.core.model;

/**
 * Llama 3 rotary-frequency scaling ({@code rope_scaling.rope_type = "llama3"}), which stretches
 * the low frequencies so that a model trained on {@code originalMaxPositionEmbeddings} positions
 * reads longer contexts. For each inverse frequency {@code f} with wavelength {@code w = 2π/f}:
 *
 * <pre>
 *   lowWave  = original / lowFreqFactor,  highWave = original / highFreqFactor
 *   w &lt; highWave           : f                       (high frequencies kept)
 *   w &gt; lowWave            : f / factor              (low frequencies scaled)
 *   otherwise              : (1 - s) f / factor + s f, s = (original / w - lowFreqFactor)
 *                                                         / (highFreqFactor - lowFreqFactor)
 * </pre>
 */
public record RopeScaling(
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) {

  /** Applies the scaling to one inverse frequency. */
  public double scale(double invFreq) {
    double lowWave = originalMaxPositionEmbeddings / lowFreqFactor;
    double highWave = originalMaxPositionEmbeddings / highFreqFactor;
    double wave = 2 * Math.PI / invFreq;
    if (wave < highWave) {
      return invFreq;
    }
    if (wave > lowWave) {
      return invFreq / factor;
    }
    double smooth =
        (originalMaxPositionEmbeddings / wave - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * invFreq / factor + smooth * invFreq;
  }
}
