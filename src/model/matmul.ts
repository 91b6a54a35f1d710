/**
 * Matrix products that use only the untransposed kernel, forward and backward. On the wasm
 * backend `tf.matMul(a, b, transposeA, transposeB)` with either flag set runs ~10× slower than a
 * plain product (measured: 2048×128 · 128×384 takes 90 ms vs 8.7 ms), and tf's own matMul
 * gradient uses those flags. An explicit transpose costs O(size), far less than the product.
 *
 * A weight is stored in one of two layouts (`Weight`). XNNPACK, behind the wasm backend, keeps a
 * packed copy of a product's right operand for as long as that tensor lives, so a weight used as
 * the right operand costs its memory twice; used as the left operand, it costs nothing extra.
 *   "in-out": [in, out], y = x · W        — fastest for small models (measured 1.5–1.8× faster
 *                                            than the left-operand form at the tiny model's shapes)
 *   "out-in": [out, in] (HF's layout), y = (W · xᵀ)ᵀ — for models that do not fit twice in the
 *                                            wasm heap; as fast at 0.5 B shapes (182 vs 190 ms
 *                                            for 600×896 · 896×4864)
 * With trirl's native product on wasm (native-kernels.ts) none of this applies: a transposed
 * operand is packed as fast as a plain one (a transposed weight is even read faster, row by row),
 * nothing is cached per operand, and every product runs with its flags; weights stay in HF's
 * layout ("out-in", y = x · Wᵀ), so loading copies nothing and a tied embedding gathers rows.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "./native-kernels.ts";

export type Layout = "in-out" | "out-in";

/** A linear map's weight matrix and how it is stored; `t` may be a trainable `tf.Variable`. */
export type Weight = { t: tf.Tensor2D; layout: Layout };

/** Swaps the last two axes. */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(x, perm);
}

/** Whether the active backend multiplies transposed operands as fast as plain ones (the native product on wasm). */
export function hasFastTransposes(): boolean {
  return tf.getBackend() === "wasm" && nativeAddon() !== undefined;
}

/**
 * Whether a gradient tape records the ops run now. Without one, the products below skip their
 * `tf.customGrad` wrapper (its bookkeeping costs more than a decode step's small products) and
 * run the same kernel: the same value.
 */
export function isRecording(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/** a @ b with gradients for both inputs (same batch dims, or both 2-D). */
export const matMul = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => (isRecording() ? matMulTaped(a, b) : tf.matMul(a, b));

const matMulTaped = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) =>
      hasFastTransposes() ? [tf.matMul(dy, sb, false, true), tf.matMul(sa, dy, true, false)] : [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

const matMulBT = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b, false, true),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [tf.matMul(dy, sb), tf.matMul(dy, sa, true, false)],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** a @ bᵀ with gradients for both inputs (attention's q · kᵀ); bᵀ is never copied with fast transposes. */
export function matMulTransposed(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!hasFastTransposes()) return matMul(a, swapLast(b));
  return isRecording() ? matMulBT(a, b) : tf.matMul(a, b, false, true);
}

/** [in, out] of a weight, whatever its layout. */
export function weightDims(w: Weight): { inDim: number; outDim: number } {
  const [r, c] = w.t.shape;
  return w.layout === "in-out" ? { inDim: r, outDim: c } : { inDim: c, outDim: r };
}

/** The weight as HF stores it, [out, in]; a new tensor the caller disposes. */
export function hfLayout(w: Weight): tf.Tensor2D {
  return (w.layout === "out-in" ? w.t.clone() : w.t.transpose()) as tf.Tensor2D;
}

/** x · W for x: [M, in] → [M, out], no gradient (sampling, reference passes, inside custom ops). */
export function applyWeight(x: tf.Tensor2D, w: Weight): tf.Tensor2D {
  if (w.layout === "in-out") return tf.matMul(x, w.t);
  return tf.tidy(() => (hasFastTransposes() ? tf.matMul(x, w.t, false, true) : swapLast(tf.matMul(w.t, swapLast(x)))) as tf.Tensor2D);
}

/**
 * dy · Wᵀ for dy: [M, out] → [M, in], the input gradient. For "out-in" the weight is transposed
 * into a transient [in, out] copy and used as the left operand, so no packed copy outlives it.
 */
function applyWeightTransposed(dy: tf.Tensor2D, w: Weight): tf.Tensor2D {
  if (hasFastTransposes()) return w.layout === "in-out" ? tf.matMul(dy, w.t, false, true) : tf.matMul(dy, w.t);
  return tf.tidy(() => (w.layout === "in-out" ? tf.matMul(dy, swapLast(w.t)) : swapLast(tf.matMul(swapLast(w.t), swapLast(dy)))) as tf.Tensor2D);
}

/** ∂(Σ dy ⊙ x·W)/∂W in the weight's own layout. */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D, w: Weight): tf.Tensor2D {
  if (hasFastTransposes()) return w.layout === "in-out" ? tf.matMul(x, dy, true, false) : tf.matMul(dy, x, true, false);
  return tf.tidy(() => (w.layout === "in-out" ? tf.matMul(swapLast(x), dy) : tf.matMul(swapLast(dy), x)) as tf.Tensor2D);
}

/** True for a weight that a full fine-tune differentiates (a trainable `tf.Variable`). */
export function isTrainable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable && t.trainable;
}

/**
 * x · W for x: [M, in] with the gradient for x, and for W only when it is trainable (a full
 * fine-tune): no FLOPs are spent on a gradient for a weight that is never updated.
 */
export function matMulWeight(x: tf.Tensor2D, w: Weight): tf.Tensor2D {
  if (!isRecording()) return applyWeight(x, w);
  const trainable = isTrainable(w.t);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save(trainable ? [input] : []);
    return {
      value: applyWeight(input, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dx = applyWeightTransposed(dy as tf.Tensor2D, w);
        return trainable ? [dx, weightGrad(saved[0] as tf.Tensor2D, dy as tf.Tensor2D, w)] : [dx];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D;
  return trainable ? op(x, w.t) : op(x);
}
