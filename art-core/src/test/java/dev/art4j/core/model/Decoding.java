package dev.art4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** Greedy decoding with the KV cache, one token per step (test helper). */
final class Decoding {

  private Decoding() {}

  static long[] greedy(Transformer model, Lora adapter, long[] prompt, int n, NDManager parent) {
    long[] out = new long[n];
    try (ReferenceKvCache cache = ReferenceKvCache.create(model.config(), 4, parent)) {
      long[] ids = prompt;
      int pos = 0;
      for (int i = 0; i < n; i++) {
        try (NDManager step = parent.newSubManager()) {
          NDArray input = step.create(ids).reshape(1, ids.length);
          long[] positions = new long[ids.length];
          for (int j = 0; j < ids.length; j++) {
            positions[j] = pos + j;
          }
          NDArray mask = step.ones(new ai.djl.ndarray.types.Shape(1, pos + ids.length), DataType.INT64);
          NDArray logits = model.forward(input, step.create(positions).reshape(1, ids.length), mask, cache, adapter);
          pos += ids.length;
          out[i] = logits.get("0, -1").argMax().getLong();
          ids = new long[] {out[i]};
        }
      }
    }
    return out;
  }
}
