/**
 * A whole decoder layer in five kernels for inference forwards (no gradient tape), instead of ≈ 45:
 * native/layer.cc's three parts with tfjs-wasm's Softmax and Sigmoid in between (XNNPACK's exp
 * approximations, which stay theirs). Part 1: input norm → q/k/v (+ LoRA) → heads → cache concat →
 * scores + bias; part 2: probs · values → o_proj → residual → post-attention norm → gate, up;
 * part 3: (gate · σ(gate)) · up → down_proj → residual. Each repeats the float operations of
 * qwen.ts decoderLayer in order, with the same products, so the layer is bit-identical to it
 * (test/model/fused.test.ts). On the tiny model a kernel's dispatch cost more than its work.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KvCache } from "./kv-cache.ts";
import { heapOffsets, linearOperand, nativeAddon, nativeThreadCount, registerNativeKernels, type KernelArgs } from "./native-kernels.ts";
import type { Adapters } from "./qwen.ts";
import type { Linear, QwenModel } from "./weights.ts";

const ATTENTION_IN = "TrirlAttentionIn";
const ATTENTION_OUT = "TrirlAttentionOut";
const MLP_OUT = "TrirlMlpOut";

/** Per linear (by input-name prefix): whether its weight is [out, in], and its LoRA scale. */
type LinearAttrs = Record<string, { isOutIn: boolean; scale: number }>;

/** Heap offsets, and the 8 ints of the linear under input-name prefix `p`; after every output is allocated. */
function offsetsOf(backend: BackendWasm, inputs: Record<string, tf.TensorInfo | undefined>, outputs: tf.TensorInfo[]) {
  const { heap, at } = heapOffsets(backend, outputs[0]);
  const linear = (p: string, attrs: LinearAttrs) =>
    linearOperand(at, { w: inputs[`${p}W`]!, bias: inputs[`${p}Bias`], aT: inputs[`${p}A`], bT: inputs[`${p}B`], isOutIn: attrs[p].isOutIn });
  return { heap, at, linear };
}

function attentionInKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as BackendWasm;
  const { heads, kvHeads, eps, qScale, linears } = attrs as unknown as { heads: number; kvHeads: number; eps: number; qScale: number; linears: LinearAttrs };
  const { x, normW, qNorm, kNorm, cos, sin, bias, pastK, pastV } = inputs as Record<string, tf.TensorInfo | undefined> & Record<"x" | "normW" | "cos" | "sin" | "bias", tf.TensorInfo>;
  const [b, t] = x.shape;
  const d = cos.shape.at(-1)!;
  const past = pastK?.shape[2] ?? 0;
  const s = past + t;
  const outs = [wasm.makeOutput([b, heads, t, s], "float32"), wasm.makeOutput([b, kvHeads, s, d], "float32"), wasm.makeOutput([b, kvHeads, s, d], "float32")];
  const o = offsetsOf(wasm, inputs, outs);
  const ints = [...[x, normW, qNorm, kNorm, cos, sin, bias, pastK, pastV, ...outs].map(o.at), b, t, past, heads, kvHeads, d, nativeThreadCount()];
  ints.push(...o.linear("q", linears), ...o.linear("k", linears), ...o.linear("v", linears));
  nativeAddon()!.attentionIn(o.heap, Int32Array.from(ints), Float64Array.from([eps, qScale, linears.q.scale, linears.k.scale, linears.v.scale]));
  return outs;
}

function attentionOutKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as BackendWasm;
  const { kvHeads, eps, linears } = attrs as unknown as { kvHeads: number; eps: number; linears: LinearAttrs };
  const { probs, values, x, normW, gateW } = inputs;
  const [b, heads, t, s] = probs.shape;
  const d = values.shape[3];
  const f = linears.gate.isOutIn ? gateW.shape[0] : gateW.shape[1];
  const outs = [wasm.makeOutput(x.shape, "float32"), wasm.makeOutput([b, t, f], "float32"), wasm.makeOutput([b, t, f], "float32")];
  const o = offsetsOf(wasm, inputs, outs);
  const ints = [...[probs, values, x, normW, ...outs].map(o.at), b, t, s, heads, kvHeads, d, nativeThreadCount()];
  ints.push(...o.linear("o", linears), ...o.linear("gate", linears), ...o.linear("up", linears));
  nativeAddon()!.attentionOut(o.heap, Int32Array.from(ints), Float64Array.from([eps, linears.o.scale, linears.gate.scale, linears.up.scale]));
  return outs;
}

function mlpOutKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { linears } = attrs as unknown as { linears: LinearAttrs };
  const { gate, sig, up, h } = inputs;
  const out = wasm.makeOutput(h.shape, "float32");
  const o = offsetsOf(wasm, inputs, [out]);
  const rows = h.shape.slice(0, -1).reduce((a, c) => a * c, 1);
  const ints = [...[gate, sig, up, h, out].map(o.at), rows, nativeThreadCount(), ...o.linear("down", linears)];
  nativeAddon()!.mlpOut(o.heap, Int32Array.from(ints), Float64Array.from([linears.down.scale]));
  return out;
}

let isRegistered = false;

/** Registers the layer's kernels on the wasm backend when the addon is loaded (idempotent). */
export function registerFusedLayer(): void {
  isRegistered ||= registerNativeKernels({ [ATTENTION_IN]: attentionInKernel as unknown as tf.KernelFunc, [ATTENTION_OUT]: attentionOutKernel as unknown as tf.KernelFunc, [MLP_OUT]: mlpOutKernel as unknown as tf.KernelFunc });
}

/** Whether layer `i` runs fused: the caller has checked `isFusable()`; LoRA dropout (training only) keeps the chain. */
export function isLayerFusable(model: QwenModel, i: number, adapters?: Adapters): boolean {
  return isRegistered && Object.values(model.weights.layers[i].linears).every((lin) => !adapters?.get(lin.key)?.dropout);
}

/** Inputs and attrs of one linear under the prefix `p`. */
function linearInputs(p: string, lin: Linear, adapters: Adapters | undefined, inputs: tf.NamedTensorMap, attrs: LinearAttrs): void {
  inputs[`${p}W`] = lin.weight.t;
  if (lin.bias) inputs[`${p}Bias`] = lin.bias;
  const lora = adapters?.get(lin.key);
  if (lora) [inputs[`${p}A`], inputs[`${p}B`]] = [lora.aT, lora.bT];
  attrs[p] = { isOutIn: lin.weight.layout === "out-in", scale: lora?.scale ?? 1 };
}

export type FusedLayerInput = {
  x: tf.Tensor3D; // [B, T, C]
  cos: tf.Tensor; // [B, 1, T, D]
  sin: tf.Tensor;
  bias: tf.Tensor4D; // [B, 1, T, S]
  past?: { keys: tf.Tensor4D; values: tf.Tensor4D };
  adapters?: Adapters;
};

/**
 * Decoder layer `i` of qwen.ts, fused; returns its output [B, T, C] and the layer's extended cache
 * keys and values [B, K, S, D] (in the caller's tidy, like every output here).
 */
export function fusedDecoderLayer(model: QwenModel, i: number, inp: FusedLayerInput): { y: tf.Tensor3D; keys: tf.Tensor4D; values: tf.Tensor4D } {
  const { numHeads: heads, numKvHeads: kvHeads, headDim: d, rmsNormEps: eps } = model.config;
  const w = model.weights.layers[i];
  const l = w.linears;
  const engine = tf.engine();
  const inA: tf.NamedTensorMap = { x: inp.x, normW: w.inputNorm, cos: inp.cos, sin: inp.sin, bias: inp.bias };
  if (w.qNorm) inA.qNorm = w.qNorm;
  if (w.kNorm) inA.kNorm = w.kNorm;
  if (inp.past) [inA.pastK, inA.pastV] = [inp.past.keys, inp.past.values];
  const attrsA: LinearAttrs = {};
  for (const [p, lin] of [["q", l.q_proj], ["k", l.k_proj], ["v", l.v_proj]] as const) linearInputs(p, lin, inp.adapters, inA, attrsA);
  const [scores, keys, values] = engine.runKernel(ATTENTION_IN, inA, { heads, kvHeads, eps, qScale: 1 / Math.sqrt(d), linears: attrsA } as never) as tf.Tensor[];
  const probs = tf.softmax(scores, -1); // [B, H, T, S]
  const inB: tf.NamedTensorMap = { probs, values, x: inp.x, normW: w.postAttentionNorm };
  const attrsB: LinearAttrs = {};
  for (const [p, lin] of [["o", l.o_proj], ["gate", l.gate_proj], ["up", l.up_proj]] as const) linearInputs(p, lin, inp.adapters, inB, attrsB);
  const [h, gate, up] = engine.runKernel(ATTENTION_OUT, inB, { kvHeads, eps, linears: attrsB } as never) as tf.Tensor[];
  const inC: tf.NamedTensorMap = { gate, sig: tf.sigmoid(gate), up, h };
  const attrsC: LinearAttrs = {};
  linearInputs("down", l.down_proj, inp.adapters, inC, attrsC);
  const y = engine.runKernel(MLP_OUT, inC, { linears: attrsC } as never) as tf.Tensor3D;
  return { y, keys: keys as tf.Tensor4D, values: values as tf.Tensor4D };
}
