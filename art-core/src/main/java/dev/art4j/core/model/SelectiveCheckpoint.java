package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import java.util.function.Supplier;

/**
 * One decoder layer under selective activation checkpointing (Korthikanti et al., "Reducing
 * Activation Recomputation in Large Transformer Models", 2022): the activations that are large but
 * cheap to compute, the attention's (B, H, T, S) probabilities and the MLP's gated activation
 * (three (B, T, F) arrays in autograd), are not kept for backward but computed again from inputs
 * that are kept anyway. The layer's graph is cut around those two parts ({@code ~~>}: run without a
 * graph, and again with one in backward):
 *
 * <pre>
 *   x  --norm--> h1 --q/k/v proj, rope--> (q, k, v) ~~core~~> a --o proj, + x-->    x1
 *   x1 --norm--> h2 --gate/up proj-->     (g, u)    ~~act~~>  p --down proj, + x1--> y
 * </pre>
 *
 * Every cut is a leaf that shares its storage with the array it was cut from, so the cuts cost no
 * memory. {@link #backward} walks the pieces from the top, each by autograd passes from its
 * outputs with their gradients ({@link Autograd}: {@code g^T dout/dθ}), one pass per output; the
 * cuts at the norms' outputs let the three (q, k, v) and two (g, u) passes stop there and add up
 * in the cut, so each norm back-propagates once instead of once per projection. Cost: the core's
 * two matmuls and the activation's elementwise ops once more, a few percent of the layer's work
 * (against a whole layer for {@link CheckpointedForward}'s recomputed layers). No dropout sits in
 * the recomputed parts, so they are the same functions in both runs.
 */
final class SelectiveCheckpoint {

  private final Transformer model;
  private final Transformer.Context context;
  private final NDArray x; // (B, T, D) input leaf, owned by the caller
  private NDArray h1; // (B, T, D) root: the attention's normed input
  private NDArray h1Cut;
  private NDList qkv; // roots
  private NDList qkvCut; // leaves
  private NDArray attnCut; // (B, T, H*hd) leaf
  private NDArray x1; // (B, T, D) root
  private NDArray x1Cut;
  private NDArray h2; // (B, T, D) root: the MLP's normed input
  private NDArray h2Cut;
  private NDList gateUp; // (B, T, F) roots
  private NDList gateUpCut;
  private NDArray actCut; // (B, T, F) leaf
  private NDArray y; // (B, T, D) root

  /**
   * Runs layer {@code l} on {@code x} inside a gradient collector; {@code x} is a leaf that
   * requires gradients (even where nothing below it is trained: then every piece's output is in a
   * graph, which {@link #pass} needs, since DJL's {@code hasGradient()} is false for any array that
   * is not a leaf). {@link #output()} gives the layer's output as a new leaf.
   */
  SelectiveCheckpoint(Transformer model, Transformer.Context c, NDArray x, int l, Lora adapter) {
    this.model = model;
    this.context = c;
    this.x = x;
    h1 = scopedOne(() -> model.attentionNorm(x, l));
    h1Cut = cut(h1);
    qkv = scoped(() -> model.attentionProjections(h1Cut, l, c, null, adapter));
    qkvCut = cut(qkv);
    attnCut = leaf(scopedOne(() -> model.attentionCore(detached(qkvCut), c)));
    x1 = scopedOne(() -> model.attentionOutput(x, attnCut, l, adapter));
    x1Cut = cut(x1);
    h2 = scopedOne(() -> model.mlpNorm(x1Cut, l));
    h2Cut = cut(h2);
    gateUp = scoped(() -> model.mlpProjections(h2Cut, l, adapter));
    gateUpCut = cut(gateUp);
    actCut = leaf(scopedOne(() -> model.mlpActivation(detached(gateUpCut))));
    y = scopedOne(() -> model.mlpOutput(x1Cut, actCut, l, adapter));
  }

  /** The layer's output (B, T, D): a leaf that requires gradients, owned by the caller. */
  NDArray output() {
    NDArray out = y.stopGradient();
    out.setRequiresGradient(true);
    return out;
  }

  /**
   * Back-propagates {@code gy = dloss/dy} through the layer into the adapter's gradients and frees
   * everything the layer kept.
   *
   * @return {@code dloss/dx} (B, T, D)
   */
  NDArray backward(NDArray gy) {
    try {
      pass(new NDList(y), new NDList(gy)); // into actCut and x1Cut
      NDList gateUpAgain = scoped(() -> new NDList(model.mlpActivation(gateUpCut)));
      pass(gateUpAgain, gradients(new NDList(actCut)));
      gateUpAgain.close();
      pass(gateUp, gradients(gateUpCut)); // into h2Cut
      pass(new NDList(h2), gradients(new NDList(h2Cut))); // into x1Cut, after the residual's share
      pass(new NDList(x1), gradients(new NDList(x1Cut))); // into attnCut and x
      NDList attnAgain = scoped(() -> new NDList(model.attentionCore(qkvCut, context)));
      pass(attnAgain, gradients(new NDList(attnCut)));
      attnAgain.close();
      pass(qkv, gradients(qkvCut)); // into h1Cut
      pass(new NDList(h1), gradients(new NDList(h1Cut))); // into x, after the residual's share
      return x.getGradient();
    } finally {
      for (NDList list : new NDList[] {qkv, qkvCut, gateUp, gateUpCut}) {
        list.close();
      }
      for (NDArray a : new NDArray[] {h1, h1Cut, attnCut, x1, x1Cut, h2, h2Cut, actCut, y}) {
        a.close();
      }
    }
  }

  /**
   * Back-propagates {@code grads_i} from {@code outputs_i}, as one pass from
   * {@code sum_i sum(outputs_i * grads_i)} would: outputs like gate and up share their norm's
   * graph, so every pass but the last keeps it. Closes the gradients.
   */
  private static void pass(NDList outputs, NDList grads) {
    try {
      for (int i = 0; i < outputs.size(); i++) {
        Autograd.backward(outputs.get(i), grads.get(i), i < outputs.size() - 1);
      }
    } finally {
      grads.close();
    }
  }

  /** The gradients that the leaves received. */
  private static NDList gradients(NDList leaves) {
    NDList out = new NDList(leaves.size());
    for (NDArray leaf : leaves) {
      out.add(leaf.getGradient());
    }
    return out;
  }

  /** Leaves on the same storage as {@code roots}, requiring gradients. */
  private static NDList cut(NDList roots) {
    NDList out = new NDList(roots.size());
    for (NDArray r : roots) {
      out.add(cut(r));
    }
    return out;
  }

  /** A leaf on the same storage as {@code root}, requiring gradients. */
  private static NDArray cut(NDArray root) {
    return leaf(root.stopGradient());
  }

  private static NDArray leaf(NDArray a) {
    a.setRequiresGradient(true);
    return a;
  }

  /** Views of {@code leaves} outside any graph, closed with the scope they are made in. */
  private static NDList detached(NDList leaves) {
    NDList out = new NDList(leaves.size());
    for (NDArray a : leaves) {
      out.add(a.stopGradient());
    }
    return out;
  }

  /** {@link #scoped} for a piece with one output. */
  private static NDArray scopedOne(Supplier<NDArray> piece) {
    return scoped(() -> new NDList(piece.get())).head();
  }

  /** Runs a piece in its own scope and keeps only what it returns. */
  private static NDList scoped(Supplier<NDList> piece) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList out = piece.get();
      for (NDArray a : out) {
        NDScope.unregister(a);
      }
      return out;
    }
  }
}
