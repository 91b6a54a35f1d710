/**
 * Loads a Qwen checkpoint folder into tfjs tensors by Hugging Face key, checking every shape
 * against the config. Base weights are plain (frozen) `tf.Tensor`s. Linear weights and the LM
 * head share one `Layout` (matmul.ts): "in-out" (transposed from HF at load) for models small
 * enough that XNNPACK's packed copy of each weight fits beside it, "out-in" (HF's own layout)
 * above `PACKED_COPY_LIMIT_BYTES` on the wasm backend. A tied `lm_head` is stored once and the
 * embedding lookup gathers its rows or columns. Does not know about LoRA, RL or tokenizers.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { readQwenConfig, type QwenConfig } from "./hf-config.ts";
import type { Layout, Weight } from "./matmul.ts";
import { nativeAddon } from "./native-kernels.ts";
import { openCheckpoint, type Checkpoint } from "./safetensors.ts";

export const LINEAR_NAMES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];

/** One linear layer. `key` is its HF module path, e.g. "model.layers.0.self_attn.q_proj". */
export type Linear = { key: string; weight: Weight; bias?: tf.Tensor1D /* [out] */ };

export type LayerWeights = {
  inputNorm: tf.Tensor1D; // [C]
  postAttentionNorm: tf.Tensor1D; // [C]
  qNorm?: tf.Tensor1D; // [D], Qwen3 only
  kNorm?: tf.Tensor1D; // [D], Qwen3 only
  linears: Record<LinearName, Linear>;
};

export type QwenWeights = {
  /** [V, C]; absent when tied (the lookup then gathers from lmHead). */
  embed?: tf.Tensor2D;
  layers: LayerWeights[];
  finalNorm: tf.Tensor1D; // [C]
  lmHead: Weight; // C → V
};

export type QwenModel = { config: QwenConfig; weights: QwenWeights; dir: string };

/** Module path of a linear inside layer `i`, as HF names it. */
export function linearKey(i: number, name: LinearName): string {
  const block = name === "gate_proj" || name === "up_proj" || name === "down_proj" ? "mlp" : "self_attn";
  return `model.layers.${i}.${block}.${name}`;
}

/** [out, in] of each linear, from the config. */
export function linearShape(cfg: QwenConfig, name: LinearName): [number, number] {
  const { hiddenSize: c, headDim: d, numHeads: h, numKvHeads: k, intermediateSize: f } = cfg;
  const shapes: Record<LinearName, [number, number]> = {
    q_proj: [h * d, c], k_proj: [k * d, c], v_proj: [k * d, c], o_proj: [c, h * d],
    gate_proj: [f, c], up_proj: [f, c], down_proj: [c, f],
  };
  return shapes[name];
}

/** Number of parameters a config implies (a tied head counted once). */
export function parameterCount(cfg: QwenConfig): number {
  const { hiddenSize: c, headDim: d, numHeads: h, numKvHeads: k } = cfg;
  const linears = LINEAR_NAMES.reduce((a, n) => a + linearShape(cfg, n)[0] * linearShape(cfg, n)[1], 0);
  const perLayer = linears + 2 * c + (cfg.hasQkvBias ? (h + 2 * k) * d : 0) + (cfg.hasQkNorm ? 2 * d : 0);
  return cfg.numLayers * perLayer + cfg.vocabSize * c * (cfg.tieWordEmbeddings ? 1 : 2) + c;
}

/**
 * Above this many bytes of float32 weights, a second (packed) copy of every weight would not fit
 * in the wasm heap (≈ 3.8 GB measured): a Qwen2.5-0.5B is 1.98 GB, ×2 with its packed copies.
 */
export const PACKED_COPY_LIMIT_BYTES = 2 ** 30;

/** "out-in" when the model is too big for XNNPACK's packed copies (wasm only), else "in-out". */
export function defaultLayout(cfg: QwenConfig, backend = tf.getBackend()): Layout {
  if (backend === "wasm" && nativeAddon()) return "out-in"; // HF's own: native products take it transposed (matmul.ts)
  return backend === "wasm" && parameterCount(cfg) * 4 > PACKED_COPY_LIMIT_BYTES ? "out-in" : "in-out";
}

/**
 * Reads `DIR/config.json` and the safetensors weights; the caller owns the tensors
 * (`disposeModel`). `layout` overrides `defaultLayout` (tests check both against the fixtures).
 */
/**
 * Checks that `dir` is a checkpoint folder `loadModel` can read — config.json valid, weight files
 * present with readable headers — without loading a weight: callers check their inputs before
 * they write or start anything.
 */
export function checkCheckpointFolder(dir: string): QwenConfig {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new Error(`model ${dir}: no such folder\n---> HINT: models are read from local Hugging Face checkpoint folders (or "tiny", the embedded default)`);
  const config = readQwenConfig(dir);
  openCheckpoint(dir).close();
  return config;
}

export function loadModel(dir: string, opts: { layout?: Layout } = {}): QwenModel {
  const config = readQwenConfig(dir);
  const ckpt = openCheckpoint(dir);
  try {
    return { config, weights: loadWeights(ckpt, config, opts.layout ?? defaultLayout(config)), dir };
  } finally {
    ckpt.close();
  }
}

function loadWeights(ckpt: Checkpoint, cfg: QwenConfig, layout: Layout): QwenWeights {
  const created: tf.Tensor[] = [];
  const load = <R extends tf.Rank>(key: string, shape: number[]): tf.Tensor<R> => {
    const entry = ckpt.entries.get(key);
    if (!entry) throw new Error(`${ckpt.dir}: missing weight "${key}" (expected shape [${shape}])`);
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${entry.file}: weight "${key}" has shape [${entry.shape}], config.json implies [${shape}]`);
    const t = tf.tensor(ckpt.read(key), shape, "float32") as unknown as tf.Tensor<R>;
    created.push(t);
    return t;
  };
  const loadWeight = (key: string, shape: [number, number]): Weight => {
    const hf = load<tf.Rank.R2>(key, shape);
    if (layout === "out-in") return { t: hf, layout };
    const t = hf.transpose() as tf.Tensor2D;
    created.splice(created.indexOf(hf), 1, t);
    hf.dispose();
    return { t, layout };
  };
  try {
    const { hiddenSize: c, vocabSize: v, headDim: d } = cfg;
    const layers = Array.from({ length: cfg.numLayers }, (_, i): LayerWeights => {
      const p = `model.layers.${i}`;
      const linears = {} as Record<LinearName, Linear>;
      for (const name of LINEAR_NAMES) {
        const key = linearKey(i, name);
        const [out, inp] = linearShape(cfg, name);
        const hasBias = cfg.hasQkvBias && (name === "q_proj" || name === "k_proj" || name === "v_proj");
        linears[name] = {
          key,
          weight: loadWeight(`${key}.weight`, [out, inp]),
          bias: hasBias ? load<tf.Rank.R1>(`${key}.bias`, [out]) : undefined,
        };
      }
      return {
        inputNorm: load(`${p}.input_layernorm.weight`, [c]),
        postAttentionNorm: load(`${p}.post_attention_layernorm.weight`, [c]),
        qNorm: cfg.hasQkNorm ? load(`${p}.self_attn.q_norm.weight`, [d]) : undefined,
        kNorm: cfg.hasQkNorm ? load(`${p}.self_attn.k_norm.weight`, [d]) : undefined,
        linears,
      };
    });
    const finalNorm = load<tf.Rank.R1>("model.norm.weight", [c]);
    // some tied checkpoints still store lm_head.weight; tying means we use the embedding
    if (cfg.tieWordEmbeddings) return { layers, finalNorm, lmHead: loadWeight("model.embed_tokens.weight", [v, c]) };
    const embed = load<tf.Rank.R2>("model.embed_tokens.weight", [v, c]);
    return { embed, layers, finalNorm, lmHead: loadWeight("lm_head.weight", [v, c]) };
  } catch (error) {
    created.forEach((t) => t.dispose());
    throw error;
  }
}

/** Every base tensor once (a tied lm_head is not listed twice). */
export function modelTensors(w: QwenWeights): tf.Tensor[] {
  const all = new Set<tf.Tensor>([w.finalNorm, w.lmHead.t]);
  if (w.embed) all.add(w.embed);
  for (const l of w.layers) {
    for (const t of [l.inputNorm, l.postAttentionNorm, l.qNorm, l.kNorm]) if (t) all.add(t);
    for (const lin of Object.values(l.linears)) {
      all.add(lin.weight.t);
      if (lin.bias) all.add(lin.bias);
    }
  }
  return [...all];
}

let copies = 0; // tfjs variable names must be unique among live variables

/**
 * A copy of `model` whose every weight is a trainable variable (a full fine-tune); the forward
 * pass then sends gradients to the weights too. The caller disposes the copy (`disposeModel`)
 * as well as the original. A tied head stays tied: one variable serves both embedding and head.
 */
export function trainableCopy(model: QwenModel): { model: QwenModel; variables: tf.Variable[] } {
  const copy = copies++;
  const made = new Map<tf.Tensor, tf.Variable>();
  const v = <T extends tf.Tensor>(t: T, name: string): T => {
    if (!made.has(t)) made.set(t, tf.variable(t, true, `full${copy}/${name}`));
    return made.get(t)! as unknown as T;
  };
  const w = model.weights;
  const weights: QwenWeights = {
    embed: w.embed && v(w.embed, "embed"),
    lmHead: { t: v(w.lmHead.t, "lm_head"), layout: w.lmHead.layout },
    finalNorm: v(w.finalNorm, "norm"),
    layers: w.layers.map((l, i) => ({
      inputNorm: v(l.inputNorm, `${i}.input_norm`),
      postAttentionNorm: v(l.postAttentionNorm, `${i}.post_norm`),
      qNorm: l.qNorm && v(l.qNorm, `${i}.q_norm`),
      kNorm: l.kNorm && v(l.kNorm, `${i}.k_norm`),
      linears: Object.fromEntries(Object.entries(l.linears).map(([name, lin]) => [name, {
        key: lin.key, weight: { t: v(lin.weight.t, `${lin.key}.weight`), layout: lin.weight.layout }, bias: lin.bias && v(lin.bias, `${lin.key}.bias`),
      }])) as Record<LinearName, Linear>,
    })),
  };
  return { model: { ...model, weights }, variables: [...made.values()] };
}

export function disposeModel(model: QwenModel): void {
  modelTensors(model.weights).forEach((t) => t.dispose());
}
