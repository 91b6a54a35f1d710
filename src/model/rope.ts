/**
 * Rotary position embedding tables (HF "default" rope: inv_freq = θ^(−2i/D), duplicated halves
 * for rotate_half). Angles are computed in float64 in JS and rounded once, so long positions do
 * not lose precision the way a float32 `position · inv_freq` product does. Positions are host
 * data (every caller knows them), so no tensor is read back: a GPU backend has no cheap
 * synchronous read.
 */
import * as tf from "@tensorflow/tfjs";

/** pos: [B, T] row-major → cos, sin: [B, T, D]. */
export function ropeTables(headDim: number, theta: number, pos: Int32Array, [b, t]: [number, number]): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  if (pos.length !== b * t) throw new Error(`ropeTables: ${pos.length} positions for a [${b}, ${t}] batch`);
  const half = headDim / 2;
  const invFreq = Array.from({ length: half }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  const cos = new Float32Array(b * t * headDim);
  const sin = new Float32Array(b * t * headDim);
  for (let n = 0; n < b * t; n++) {
    for (let i = 0; i < half; i++) {
      const angle = pos[n] * invFreq[i];
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[n * headDim + i] = c;
      cos[n * headDim + half + i] = c;
      sin[n * headDim + i] = s;
      sin[n * headDim + half + i] = s;
    }
  }
  return { cos: tf.tensor3d(cos, [b, t, headDim]), sin: tf.tensor3d(sin, [b, t, headDim]) };
}
