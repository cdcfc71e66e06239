package dev.art4j.core.model;

/**
 * The linear projections of a decoder layer that a LoRA adapter can target, with their
 * Hugging Face module names ({@code model.layers.<i>.self_attn.q_proj}, ...).
 */
public enum Projection {
  Q("self_attn", "q_proj"),
  K("self_attn", "k_proj"),
  V("self_attn", "v_proj"),
  O("self_attn", "o_proj"),
  GATE("mlp", "gate_proj"),
  UP("mlp", "up_proj"),
  DOWN("mlp", "down_proj");

  private final String block;
  private final String moduleName;

  Projection(String block, String moduleName) {
    this.block = block;
    this.moduleName = moduleName;
  }

  /** The short module name PEFT's {@code target_modules} uses, e.g. {@code q_proj}. */
  public String moduleName() {
    return moduleName;
  }

  /** The module path in a layer, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public String path(int layer) {
    return "model.layers." + layer + "." + block + "." + moduleName;
  }

  /** Input width of this projection for a model. */
  public int inFeatures(ModelConfig c) {
    switch (this) {
      case O: return c.numAttentionHeads() * c.headDim();
      case DOWN: return c.intermediateSize();
      default: return c.hiddenSize();
    }
  }

  /** Output width of this projection for a model. */
  public int outFeatures(ModelConfig c) {
    switch (this) {
      case Q: return c.numAttentionHeads() * c.headDim();
      case K: case V: return c.numKeyValueHeads() * c.headDim();
      case GATE: case UP: return c.intermediateSize();
      default: return c.hiddenSize();
    }
  }

  /** The projection with this short module name, or null. */
  public static Projection byModuleName(String name) {
    for (Projection p : values()) {
      if (p.moduleName.equals(name)) {
        return p;
      }
    }
    return null;
  }
}
