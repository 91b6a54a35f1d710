/**
 * Builds forward inputs from plain arrays: ids, the padding mask and positions
 * (`cumsum(mask) − 1`, as HF `generate` makes them for left padding; pads get position 0).
 */
import * as tf from "@tensorflow/tfjs";
import { assert } from "../util/assert.ts";

/** `positions` is host data ([B, T] row-major): only RoPE reads it, in JS. */
export type TokenBatch = { ids: tf.Tensor2D; positions: Int32Array; keyMask: tf.Tensor2D };

/** ids, mask: [B][T]; mask null = all ones. The caller owns the returned tensors (`disposeBatch`). */
export function tokenBatch(ids: number[][], mask: number[][] | null): TokenBatch {
  const b = ids.length;
  const t = ids[0]?.length ?? 0;
  assert(b > 0 && t > 0, "tokenBatch: empty input_ids");
  const m = mask ?? ids.map((row) => row.map(() => 1));
  const positions = m.map((row) => {
    let seen = 0;
    return row.map((v) => (v ? seen++ : Math.max(seen - 1, 0)));
  });
  return {
    ids: tf.tensor2d(ids.flat(), [b, t], "int32"),
    positions: Int32Array.from(positions.flat()),
    keyMask: tf.tensor2d(m.flat(), [b, t], "float32"),
  };
}

export function disposeBatch(batch: TokenBatch): void {
  batch.ids.dispose();
  batch.keyMask.dispose();
}
