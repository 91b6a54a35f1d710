/**
 * Qwen2 / Qwen3 causal LM forward pass in tfjs: embeddings → L × (RMSNorm, GQA attention with
 * RoPE, RMSNorm, SwiGLU MLP) → final RMSNorm → LM head. Reference: transformers
 * `modeling_qwen2.py` / `modeling_qwen3.py` (Qwen3 adds per-head q/k RMSNorm before RoPE and
 * drops the q/k/v bias). Supports left-padded batches and an incremental KV cache.
 * LoRA appears here only as an optional low-rank term in `linear()`; nothing here knows RL.
 *
 * Shape legend: B batch, T time (new tokens), S cache + new keys, C hidden, H query heads,
 * K kv heads, G = H / K, D head dim, F MLP width, V vocab, N rollouts in a step.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedAttentionBias, fusedAttentionHeads, fusedRmsNorm, isFusable } from "./fused-kernels.ts";
import { fusedDecoderLayer, isLayerFusable } from "./fused-layer.ts";
import { fusedLoraLinear, isLinearFusable } from "./fused-linear.ts";
import type { KvCache } from "./kv-cache.ts";
import { isRecording, isTrainable, matMul, matMulTransposed, matMulWeight, weightDims } from "./matmul.ts";
import { ropeTables } from "./rope.ts";
import type { Linear, QwenModel } from "./weights.ts";

/**
 * Low-rank update y += scale · (x Aᵀ) Bᵀ for one linear. Held transposed like the base weights:
 * aT = Aᵀ: [in, r], bT = Bᵀ: [r, out] (PEFT stores A: [r, in], B: [out, r]). `dropout` is set only
 * on the adapters of a training forward (lora/): x of the LoRA branch alone is dropped, as in PEFT,
 * with a seeded mask so the step is reproducible.
 */
export type LoraTerm = { aT: tf.Tensor2D; bT: tf.Tensor2D; scale: number; dropout?: { rate: number; seed: number } };
/** LoRA terms by HF module path ("model.layers.0.self_attn.q_proj"); absent = base model. */
export type Adapters = ReadonlyMap<string, LoraTerm>;

export type ForwardInput = {
  ids: tf.Tensor2D; // [B, T] int32
  /** Position of each new token, `cumsum(mask) - 1` for left padding. [B, T] row-major, host memory (rope.ts) */
  positions: Int32Array;
  /** 1 for a real key, 0 for padding, over cached + new keys. [B, S] float32 */
  keyMask: tf.Tensor2D;
  cache?: KvCache;
  adapters?: Adapters;
  /**
   * Gradient checkpointing: keep only each decoder layer's input for the backward pass and
   * recompute the layer there, so a training forward holds one layer's activations instead of
   * all of them, for one more forward's worth of compute. Training only (no cache).
   */
  checkpoint?: boolean;
};

export type ForwardOutput = {
  hidden: tf.Tensor3D; // [B, T, C] after the final norm
  /** Cache extended by this call's keys/values (only when an input cache was given). */
  cache?: KvCache;
};

const NEG_INF = -1e9; // finite: a fully masked row (a pad query) must not produce NaN

export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  if (isFusable()) return fusedRmsNorm(x, weight, eps); // the same bits in one kernel
  return tf.tidy(() => x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(weight));
}

/** x: [..., in] → [..., out]. */
export function linear(x: tf.Tensor, lin: Linear, adapters?: Adapters): tf.Tensor {
  return tf.tidy(() => {
    const inDim = x.shape[x.shape.length - 1];
    const x2 = x.reshape([-1, inDim]) as tf.Tensor2D; // [B·T, in]
    const lora = adapters?.get(lin.key);
    const outShape = [...x.shape.slice(0, -1), weightDims(lin.weight).outDim];
    // taped: the same values and gradients in one op each way (fused-linear.ts)
    if (lora && isRecording() && isLinearFusable(lin, lora)) return fusedLoraLinear(x2, lin, lora).reshape(outShape);
    let y: tf.Tensor = matMulWeight(x2, lin.weight);
    if (lin.bias) y = y.add(lin.bias);
    if (lora) {
      const xLora = lora.dropout ? tf.dropout(x2, lora.dropout.rate, undefined, lora.dropout.seed) : x2;
      y = y.add(matMul(matMul(xLora, lora.aT), lora.bT).mul(lora.scale));
    }
    return y.reshape(outShape);
  });
}

/** rotate_half RoPE (HF): x·cos + rotate(x)·sin, x: [B, h, T, D], cos/sin: [B, 1, T, D]. */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([x2.neg(), x1], 3);
  return x.mul(cos).add(rotated.mul(sin)) as tf.Tensor4D;
}

/** Additive attention bias [B, 1, T, S]: causal over absolute slots, and padded keys masked. */
function attentionBias(keyMask: tf.Tensor2D, queryLen: number): tf.Tensor4D {
  if (isFusable()) return fusedAttentionBias(keyMask, queryLen, NEG_INF); // the same bits in one kernel
  const [b, s] = keyMask.shape;
  const past = s - queryLen;
  // query i sits at slot past + i and may see slots ≤ past + i
  const causal = tf.linalg.bandPart(tf.ones([queryLen, s]), -1, past) as tf.Tensor2D; // [T, S]
  const allowed = causal.reshape([1, 1, queryLen, s]).mul(keyMask.reshape([b, 1, 1, s]));
  return tf.sub(1, allowed).mul(NEG_INF) as tf.Tensor4D;
}

/** What every layer of one forward shares: RoPE tables and the attention bias. */
type LayerContext = { cos: tf.Tensor; sin: tf.Tensor; bias: tf.Tensor4D };
type AttentionInput = LayerContext & { x: tf.Tensor3D; layer: number };

function attention(model: QwenModel, inp: AttentionInput, opts: ForwardInput, cacheOut: KvCache | undefined) {
  const { numHeads: h, numKvHeads: k, headDim: d, rmsNormEps: eps } = model.config;
  const w = model.weights.layers[inp.layer];
  const [b, t] = inp.x.shape;
  const heads = (lin: Linear, n: number, norm?: tf.Tensor1D) => {
    let y = linear(inp.x, lin, opts.adapters).reshape([b, t, n, d]); // [B, T, n, D]
    if (norm) y = rmsNorm(y, norm, eps); // Qwen3 norms q/k per head *before* RoPE
    return y.transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, n, T, D]
  };
  const scale = 1 / Math.sqrt(d);
  const rope = { cos: inp.cos, sin: inp.sin };
  // no tape: the same bits in one kernel per input (fused-kernels.ts)
  const fused = isFusable() && ((lin: Linear, n: number, more: { norm?: tf.Tensor1D; rope?: typeof rope; scale?: number }) =>
    fusedAttentionHeads(linear(inp.x, lin, opts.adapters) as tf.Tensor3D, { heads: n, eps, ...more }));
  const q = fused ? fused(w.linears.q_proj, h, { norm: w.qNorm, rope, scale }) : applyRope(heads(w.linears.q_proj, h, w.qNorm), inp.cos, inp.sin).mul(scale);
  let keys = fused ? fused(w.linears.k_proj, k, { norm: w.kNorm, rope }) : applyRope(heads(w.linears.k_proj, k, w.kNorm), inp.cos, inp.sin);
  let values = fused ? fused(w.linears.v_proj, k, {}) : heads(w.linears.v_proj, k);
  const past = opts.cache?.layers[inp.layer];
  if (past) {
    keys = tf.concat([past.keys, keys], 2); // [B, K, S, D]
    values = tf.concat([past.values, values], 2);
  }
  if (cacheOut) cacheOut.layers.push({ keys: tf.keep(keys), values: tf.keep(values) }); // outlive the layer's tidy
  const s = keys.shape[2];
  // GQA without copying K/V: query heads h = kv·G + g, so [B, H, T, D] → [B, K, G·T, D]
  const qGrouped = q.reshape([b, k, (h / k) * t, d]);
  const scores = matMulTransposed(qGrouped, keys).reshape([b, h, t, s]).add(inp.bias); // [B, H, T, S]
  const probs = tf.softmax(scores, -1).reshape([b, k, (h / k) * t, s]);
  const out = matMul(probs, values).reshape([b, h, t, d]).transpose([0, 2, 1, 3]).reshape([b, t, h * d]);
  return linear(out, w.linears.o_proj, opts.adapters) as tf.Tensor3D;
}

function mlp(model: QwenModel, layer: number, x: tf.Tensor, adapters?: Adapters): tf.Tensor {
  const l = model.weights.layers[layer].linears;
  const gate = linear(x, l.gate_proj, adapters);
  return linear(gate.mul(tf.sigmoid(gate)).mul(linear(x, l.up_proj, adapters)), l.down_proj, adapters);
}

/**
 * One decoder layer: x + attention(norm(x)), then + mlp(norm(·)). Its own tidy frees the layer's
 * intermediates as soon as it is done (≈ 150 MB at 600 tokens of a 0.5 B model): one tidy around
 * all layers held every layer's at once. The tape keeps what a backward pass needs.
 */
function decoderLayer(model: QwenModel, i: number, x: tf.Tensor3D, ctx: LayerContext, opts: ForwardInput, cacheOut: KvCache | undefined): tf.Tensor3D {
  return tf.tidy(() => {
    if (isFusable() && isLayerFusable(model, i, opts.adapters)) {
      // no tape: the same bits in five kernels (fused-layer.ts)
      const { y, keys, values } = fusedDecoderLayer(model, i, { x, ...ctx, past: opts.cache?.layers[i], adapters: opts.adapters });
      if (cacheOut) cacheOut.layers.push({ keys: tf.keep(keys), values: tf.keep(values) }); // outlive the layer's tidy
      return y;
    }
    const w = model.weights.layers[i];
    const eps = model.config.rmsNormEps;
    const h = x.add(attention(model, { x: rmsNorm(x, w.inputNorm, eps) as tf.Tensor3D, layer: i, ...ctx }, opts, cacheOut));
    return h.add(mlp(model, i, rmsNorm(h, w.postAttentionNorm, eps), opts.adapters)) as tf.Tensor3D;
  });
}

/** The trainable tensors layer `i` reads: its LoRA factors, and its own weights in a full fine-tune. */
function layerTrainables(model: QwenModel, i: number, adapters?: Adapters): tf.Tensor[] {
  const l = model.weights.layers[i];
  const all: (tf.Tensor | undefined)[] = [l.inputNorm, l.postAttentionNorm, l.qNorm, l.kNorm];
  for (const lin of Object.values(l.linears)) {
    const term = adapters?.get(lin.key);
    all.push(lin.weight.t, lin.bias, term?.aT, term?.bT);
  }
  return [...new Set(all)].filter((t): t is tf.Tensor => t !== undefined && isTrainable(t));
}

type LayerFn = (x: tf.Tensor3D, ctx: LayerContext) => tf.Tensor3D;

/**
 * Runs a gradient computation from inside another one's backward pass. tfjs (4.x) keeps one
 * active tape: a nested `tf.grads` at gradient depth 0 replaces it and sets it to null when done,
 * which would lose the outer tape (and leak its saved tensors). Restore it afterwards.
 */
function withOwnTape<T>(f: () => T): T {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outer = state.activeTape;
  try {
    return f();
  } finally {
    state.activeTape = outer;
  }
}

/**
 * f(x, ctx) as one taped op whose backward recomputes f under its own tape and returns the
 * gradients for x and for `params`, the trainable tensors f reads. Nothing inside f is kept
 * between the forward and the backward pass but x and ctx (the forward's own tidy disposes ctx,
 * so the op keeps its own references).
 */
function checkpointed(f: LayerFn, x: tf.Tensor3D, ctx: LayerContext, params: tf.Tensor[]): tf.Tensor3D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([args[0] as tf.Tensor, ctx.cos, ctx.sin, ctx.bias]);
    return {
      value: f(args[0] as tf.Tensor3D, ctx),
      gradFunc: (dy: tf.Tensor, [savedX, cos, sin, bias]: tf.Tensor[]) => {
        const again = { cos, sin, bias: bias as tf.Tensor4D };
        // params are read from f's closure: the tape matches them to these inputs by identity
        return withOwnTape(() => tf.grads((input: tf.Tensor) => f(input as tf.Tensor3D, again))([savedX, ...params], dy));
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor3D;
  return op(x, ...params);
}

/**
 * Runs the decoder over `ids` and returns the final hidden states. The returned tensors (and the
 * new cache, if one was passed in) are owned by the caller; the input cache is not disposed.
 */
export function forward(model: QwenModel, opts: ForwardInput): ForwardOutput {
  if (opts.checkpoint && opts.cache) throw new Error("forward: gradient checkpointing is for training passes, not with a KV cache");
  return tf.tidy(() => {
    const { ids, positions, keyMask } = opts;
    const cfg = model.config;
    const [b, t] = ids.shape;
    const { cos, sin } = ropeTables(cfg.headDim, cfg.ropeTheta, positions, [b, t]); // [B, T, D]
    const ctx: LayerContext = { cos: cos.reshape([b, 1, t, cfg.headDim]), sin: sin.reshape([b, 1, t, cfg.headDim]), bias: attentionBias(keyMask, t) };
    const cacheOut: KvCache | undefined = opts.cache ? { layers: [] } : undefined;
    let x = embedTokens(model, ids); // [B, T, C]
    for (let i = 0; i < cfg.numLayers; i++) {
      const layer: LayerFn = (input, c) => decoderLayer(model, i, input, c, opts, cacheOut);
      x = opts.checkpoint ? checkpointed(layer, x, ctx, layerTrainables(model, i, opts.adapters)) : layer(x, ctx);
    }
    const hidden = rmsNorm(x, model.weights.finalNorm, cfg.rmsNormEps) as tf.Tensor3D;
    return cacheOut ? { hidden, cache: cacheOut } : { hidden };
  });
}

/** ids: [B, T] → [B, T, C]; a tied model gathers from the head ([V, C] rows or [C, V] columns). */
function embedTokens(model: QwenModel, ids: tf.Tensor2D): tf.Tensor3D {
  const { embed, lmHead } = model.weights;
  const [b, t] = ids.shape;
  const table = embed ?? (lmHead.layout === "out-in" ? lmHead.t : undefined);
  if (table) return tf.gather(table, ids) as tf.Tensor as tf.Tensor3D;
  return tf.gather(lmHead.t, ids.reshape([-1]), 1).transpose().reshape([b, t, -1]); // [C, B·T] → [B, T, C]
}

/** hidden: [..., C] → logits [..., V]. Call it only on the positions whose logits you need. */
export function lmHead(model: QwenModel, hidden: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = hidden.shape[hidden.shape.length - 1];
    const logits = matMulWeight(hidden.reshape([-1, c]) as tf.Tensor2D, model.weights.lmHead);
    return logits.reshape([...hidden.shape.slice(0, -1), model.config.vocabSize]);
  });
}
