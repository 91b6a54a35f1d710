/**
 * The LM head's softmax over rows of logits, one native kernel per quantity (native/elementwise.cc
 * softmaxRows), split over the cores by rows. The tfjs chains they replace run 4–6 single-threaded
 * kernels over [rows, vocabulary] each: for the 0.5 B shape's 151,936-entry vocabulary, ≈ 15 % of
 * a LoRA training pass. Each kernel repeats its chain's float operations in the chain's order (the
 * sums left to right, as tfjs-wasm's Sum adds; exp as the native Exp kernel computes it), so the
 * results are bit-identical to the chain (test/model/softmax-kernels.test.ts); without the addon,
 * or on another backend, the chain itself runs. z = y · invTemp throughout (y: raw logits [m, V]).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffsets, type KernelArgs, nativeAddon, nativeThreadCount, registerNativeKernels } from "./native-kernels.ts";

const SOFTMAX_ROWS = "TrirlSoftmaxRows";
const MODES = { stats: 0, entropy: 1, probs: 2 } as const;
type Mode = keyof typeof MODES;

function softmaxRowsKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { y, lse } = inputs as { y: tf.TensorInfo; lse?: tf.TensorInfo };
  const { mode, invTemp } = attrs as unknown as { mode: Mode; invTemp: number };
  const [rows, cols] = y.shape;
  const out = wasm.makeOutput(mode === "stats" ? [rows, 2] : mode === "entropy" ? [rows] : [rows, cols], "float32");
  const { heap, at } = heapOffsets(wasm, out);
  nativeAddon()!.softmaxRows(heap, Int32Array.from([MODES[mode], at(y), at(lse), at(out), rows, cols, nativeThreadCount()]), Float64Array.of(invTemp));
  return out;
}

let isRegistered = false;

function isNative(y: tf.Tensor): boolean {
  isRegistered ||= registerNativeKernels({ [SOFTMAX_ROWS]: softmaxRowsKernel as unknown as tf.KernelFunc });
  return isRegistered && tf.getBackend() === "wasm" && y.dtype === "float32";
}

const run = (mode: Mode, y: tf.Tensor2D, invTemp: number, lse?: tf.Tensor1D) =>
  tf.engine().runKernel(SOFTMAX_ROWS, lse ? { y, lse } : { y }, { mode, invTemp: Math.fround(invTemp) }) as tf.Tensor;

/** logsumexp_j z[r, j] per row, [m]: tf.logSumExp(z, 1) (max + log Σ exp(z − max)). */
export function logSumExpRows(y: tf.Tensor2D, invTemp: number): tf.Tensor1D {
  if (!isNative(y)) return tf.tidy(() => tf.logSumExp(y.mul(invTemp), 1) as tf.Tensor1D);
  return tf.tidy(() => {
    const stats = run("stats", y, invTemp); // [m, 2]: max, Σ exp(z − max)
    return stats.slice([0, 0], [-1, 1]).reshape([-1]).add(stats.slice([0, 1], [-1, 1]).reshape([-1]).log()) as tf.Tensor1D;
  });
}

/** Entropy −Σ_j p log p per row, [m], with log p = z − lse. */
export function entropyRows(y: tf.Tensor2D, lse: tf.Tensor1D, invTemp: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (isNative(y)) return run("entropy", y, invTemp, lse).neg() as tf.Tensor1D;
    const logp = y.mul(invTemp).sub(lse.reshape([-1, 1]));
    return logp.exp().mul(logp).sum(1).neg() as tf.Tensor1D;
  });
}

/** Probabilities exp(z − lse) [m, V] (the softmax, given each row's logsumexp). */
export function softmaxProbs(y: tf.Tensor2D, lse: tf.Tensor1D, invTemp: number): tf.Tensor2D {
  if (isNative(y)) return run("probs", y, invTemp, lse) as tf.Tensor2D;
  return tf.tidy(() => y.mul(invTemp).sub(lse.reshape([-1, 1])).exp() as tf.Tensor2D);
}
