/**
 * Fused inference kernels on the wasm backend (native/fused.cc): RMSNorm, and an attention input's
 * heads (per-head norm, transpose to [B, n, T, D], RoPE, q's scale) in one kernel each instead of
 * 6 and 15; the attention bias (plain JS) in one instead of ≈ 16. On the tiny model a kernel's work is a few hundred floats, so its dispatch is most of
 * its cost, and a decode step ran ≈ 400 of them.
 * Each repeats the float operations of the tfjs chain it replaces in the same order, so its output
 * is bit-identical to that chain (test/model/fused.test.ts): generation, reference passes and the
 * training forward all see the same numbers. Used only where no gradient is recorded (`isFusable`):
 * a taped forward keeps the chain, whose gradients accumulate in the order the trainer was tuned with.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { nativeAddon, registerNativeKernels } from "./native-kernels.ts";

const RMS_NORM = "TrirlRmsNorm";
const ATTENTION_HEADS = "TrirlAttentionHeads";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Heap = { heap: ArrayBufferLike; at: (t: tf.TensorInfo | undefined) => number };

/** Float offsets of tensors in the wasm heap; read after every output is allocated (an allocation may move the heap). */
function heapOf(backend: BackendWasm, tensors: tf.TensorInfo[]): Heap {
  const views = new Map(tensors.map((t) => [t, backend.typedArrayFromHeap(t) as Float32Array]));
  return { heap: views.get(tensors[0])!.buffer, at: (t) => (t ? views.get(t)!.byteOffset / 4 : -1) };
}

function rmsNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, weight } = inputs as { x: tf.TensorInfo; weight: tf.TensorInfo };
  const cols = x.shape.at(-1)!;
  const out = wasm.makeOutput(x.shape, "float32");
  const h = heapOf(wasm, [out, x, weight]);
  nativeAddon()!.rmsNorm(h.heap, h.at(x), h.at(weight), h.at(out), x.shape.reduce((a, b) => a * b, 1) / cols, cols, (attrs as { eps: number }).eps);
  return out;
}

type HeadsAttrs = { heads: number; eps: number; scale: number };

function attentionHeadsKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, norm, cos, sin } = inputs as { x: tf.TensorInfo; norm?: tf.TensorInfo; cos?: tf.TensorInfo; sin?: tf.TensorInfo };
  const { heads: n, eps, scale } = attrs as unknown as HeadsAttrs;
  const [b, t, width] = x.shape;
  const d = width / n;
  const out = wasm.makeOutput([b, n, t, d], "float32");
  const h = heapOf(wasm, [out, x, ...[norm, cos, sin].filter((v): v is tf.TensorInfo => v !== undefined)]);
  nativeAddon()!.attentionHeads(h.heap, Int32Array.from([h.at(x), h.at(norm), h.at(cos), h.at(sin), h.at(out), b, t, n, d]), eps, scale);
  return out;
}

const ATTENTION_BIAS = "TrirlAttentionBias";

/**
 * qwen.ts attentionBias in one kernel, plain JS (it only compares and multiplies by 0 or 1):
 * bias[b, 0, i, j] = (1 − [j ≤ past + i] · keyMask[b, j]) · NEG_INF, each step rounded to float32
 * as the chain (bandPart, Mul, Sub, Mul) rounds it. tfjs's bandPart alone is ≈ 12 kernels.
 */
function attentionBiasKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { keyMask } = inputs as { keyMask: tf.TensorInfo };
  const { queryLen: t, negInf } = attrs as unknown as { queryLen: number; negInf: number };
  const [b, s] = keyMask.shape;
  const out = wasm.makeOutput([b, 1, t, s], "float32");
  const [mask, bias] = [keyMask, out].map((x) => wasm.typedArrayFromHeap(x) as Float32Array); // views after the allocation
  const inf = Math.fround(negInf);
  for (let r = 0; r < b; r++)
    for (let i = 0; i < t; i++)
      for (let j = 0; j < s; j++) {
        const allowed = j <= s - t + i ? mask[r * s + j] : 0;
        bias[(r * t + i) * s + j] = Math.fround(Math.fround(1 - allowed) * inf);
      }
  return out;
}

let isRegistered = false;

/** Registers the fused kernels on the wasm backend when the addon is loaded (idempotent). */
export function registerFusedKernels(): void {
  isRegistered ||= registerNativeKernels({ [RMS_NORM]: rmsNormKernel as unknown as tf.KernelFunc, [ATTENTION_HEADS]: attentionHeadsKernel as unknown as tf.KernelFunc, [ATTENTION_BIAS]: attentionBiasKernel as unknown as tf.KernelFunc });
}

/** keyMask: [B, S] → the additive bias [B, 1, T, S] of qwen.ts attentionBias; the caller checks `isFusable()`. */
export function fusedAttentionBias(keyMask: tf.Tensor2D, queryLen: number, negInf: number): tf.Tensor4D {
  return tf.engine().runKernel(ATTENTION_BIAS, { keyMask }, { queryLen, negInf }) as tf.Tensor4D;
}

/** Whether the fused kernels can run here: wasm with the addon, and no gradient being recorded. */
export function isFusable(): boolean {
  return isRegistered && tf.getBackend() === "wasm" && !(tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/** x · rsqrt(mean(x², −1) + eps) · w in one kernel; the caller checks `isFusable()`. */
export function fusedRmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.engine().runKernel(RMS_NORM, { x, weight }, { eps }) as tf.Tensor;
}

/**
 * x: [B, T, n·D] → [B, n, T, D], with a per-head norm (`norm`: [D]), rotate_half RoPE (cos, sin:
 * [B, T, D] in memory) and a scale, each when given; the caller checks `isFusable()`.
 */
export function fusedAttentionHeads(x: tf.Tensor3D, opts: { heads: number; eps: number; norm?: tf.Tensor1D; rope?: { cos: tf.Tensor; sin: tf.Tensor }; scale?: number }): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = { x };
  if (opts.norm) inputs.norm = opts.norm;
  if (opts.rope) Object.assign(inputs, opts.rope);
  return tf.engine().runKernel(ATTENTION_HEADS, inputs, { heads: opts.heads, eps: opts.eps, scale: opts.scale ?? 1 }) as tf.Tensor4D;
}
