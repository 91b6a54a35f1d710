/**
 * A LoRA linear for taped (training) forwards as one op: y = x·W (+ bias) + ((x·Aᵀ)·Bᵀ)·scale in one
 * native kernel, and its gradient (dx, dAᵀ, dBᵀ) in one, instead of ≈ 8 and ≈ 12 tfjs kernels
 * (native/layer.cc linearForward / linearBackward). The backward repeats what the tape computes
 * for qwen.ts linear's chain — the same products with the same transpose flags (matmul.ts), dy·scale
 * for the Mul, and x's two gradients added LoRA branch first, as the tape accumulates them — so
 * values and gradients are bit-identical to it (test/model/fused.test.ts). Only for a frozen W
 * without LoRA dropout: a trainable W or a dropout mask keeps the chain.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffsets, linearOperand, nativeAddon, nativeThreadCount, registerNativeKernels, type KernelArgs } from "./native-kernels.ts";
import { isTrainable } from "./matmul.ts";
import type { LoraTerm } from "./qwen.ts";
import type { Linear } from "./weights.ts";

const LINEAR = "TrirlLoraLinear";
const LINEAR_GRAD = "TrirlLoraLinearGrad";

type Attrs = { isOutIn: boolean; scale: number };

function linearKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const a = attrs as unknown as Attrs;
  const { x, w, bias, aT, bT } = inputs;
  const out = wasm.makeOutput([x.shape[0], bT.shape[1]], "float32");
  const { heap, at } = heapOffsets(wasm, out);
  const ints = [at(x), at(out), x.shape[0], nativeThreadCount(), ...linearOperand(at, { w, bias, aT, bT, isOutIn: a.isOutIn })];
  nativeAddon()!.linearForward(heap, Int32Array.from(ints), Float64Array.from([a.scale]));
  return out;
}

function linearGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as BackendWasm;
  const a = attrs as unknown as Attrs;
  const { x, dy, w, bias, aT, bT } = inputs;
  const outs = [wasm.makeOutput(x.shape, "float32"), wasm.makeOutput(aT.shape, "float32"), wasm.makeOutput(bT.shape, "float32")];
  const { heap, at } = heapOffsets(wasm, outs[0]);
  const ints = [at(x), at(dy), ...outs.map(at), x.shape[0], nativeThreadCount(), ...linearOperand(at, { w, bias, aT, bT, isOutIn: a.isOutIn })];
  nativeAddon()!.linearBackward(heap, Int32Array.from(ints), Float64Array.from([a.scale]));
  return outs;
}

let isRegistered = false;

/** Registers the op's kernels on the wasm backend when the addon is loaded (idempotent). */
export function registerFusedLinear(): void {
  isRegistered ||= registerNativeKernels({ [LINEAR]: linearKernel as unknown as tf.KernelFunc, [LINEAR_GRAD]: linearGradKernel as unknown as tf.KernelFunc });
}

let isEnabled = true;

/** Tests only: runs the tfjs chain instead, to compare the two bit for bit. */
export function setFusedLinear(enabled: boolean): void {
  isEnabled = enabled;
}

/** Whether `lin` with `lora` runs as this op: wasm with the addon, a frozen weight, no dropout. */
export function isLinearFusable(lin: Linear, lora: LoraTerm): boolean {
  return isEnabled && isRegistered && tf.getBackend() === "wasm" && !lora.dropout && !isTrainable(lin.weight.t);
}

/** x: [M, in] → [M, out] with gradients for x, aT and bT; the caller checks `isLinearFusable`. */
export function fusedLoraLinear(x: tf.Tensor2D, lin: Linear, lora: LoraTerm): tf.Tensor2D {
  const attrs = { isOutIn: lin.weight.layout === "out-in", scale: lora.scale };
  const consts: tf.NamedTensorMap = lin.bias ? { w: lin.weight.t, bias: lin.bias } : { w: lin.weight.t };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, aT, bT, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([input, aT, bT]);
    return {
      value: tf.engine().runKernel(LINEAR, { x: input, aT, bT, ...consts }, attrs as never) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, [sx, saT, sbT]: tf.Tensor[]) => tf.engine().runKernel(LINEAR_GRAD, { x: sx, dy, aT: saT, bT: sbT, ...consts }, attrs as never) as tf.Tensor[],
    };
  }) as (x: tf.Tensor2D, aT: tf.Tensor2D, bT: tf.Tensor2D) => tf.Tensor2D;
  return op(x, lora.aT, lora.bT);
}
