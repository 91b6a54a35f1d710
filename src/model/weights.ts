/**
 * Loads a Qwen checkpoint folder into tfjs tensors by Hugging Face key, checking every shape
 * against the config. Base weights are plain (frozen) `tf.Tensor`s, stored in HF layout:
 * linear weights are [out, in]. A tied `lm_head` shares the embedding tensor.
 * Does not know about LoRA, RL or tokenizers.
 */
import * as tf from "@tensorflow/tfjs";
import { readQwenConfig, type QwenConfig } from "./hf-config.ts";
import { openCheckpoint, type Checkpoint } from "./safetensors.ts";

export const LINEAR_NAMES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];

/** One linear layer. `key` is its HF module path, e.g. "model.layers.0.self_attn.q_proj". */
export type Linear = { key: string; weight: tf.Tensor2D; bias?: tf.Tensor1D };

export type LayerWeights = {
  inputNorm: tf.Tensor1D; // [C]
  postAttentionNorm: tf.Tensor1D; // [C]
  qNorm?: tf.Tensor1D; // [D], Qwen3 only
  kNorm?: tf.Tensor1D; // [D], Qwen3 only
  linears: Record<LinearName, Linear>;
};

export type QwenWeights = {
  embed: tf.Tensor2D; // [V, C]
  layers: LayerWeights[];
  finalNorm: tf.Tensor1D; // [C]
  lmHead: tf.Tensor2D; // [V, C]; the embedding itself when tied
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

/** Reads `DIR/config.json` and the safetensors weights; the caller owns the tensors (`disposeModel`). */
export function loadModel(dir: string): QwenModel {
  const config = readQwenConfig(dir);
  const ckpt = openCheckpoint(dir);
  try {
    return { config, weights: loadWeights(ckpt, config), dir };
  } finally {
    ckpt.close();
  }
}

function loadWeights(ckpt: Checkpoint, cfg: QwenConfig): QwenWeights {
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
          weight: load<tf.Rank.R2>(`${key}.weight`, [out, inp]),
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
    const embed = load<tf.Rank.R2>("model.embed_tokens.weight", [v, c]);
    // some tied checkpoints still store lm_head.weight; tying means we use the embedding
    const lmHead = cfg.tieWordEmbeddings ? embed : load<tf.Rank.R2>("lm_head.weight", [v, c]);
    return { embed, layers, finalNorm: load("model.norm.weight", [c]), lmHead };
  } catch (error) {
    created.forEach((t) => t.dispose());
    throw error;
  }
}

/** Every base tensor once (a tied lm_head is not listed twice). */
export function modelTensors(w: QwenWeights): tf.Tensor[] {
  const all = new Set<tf.Tensor>([w.embed, w.finalNorm, w.lmHead]);
  for (const l of w.layers) {
    for (const t of [l.inputNorm, l.postAttentionNorm, l.qNorm, l.kNorm]) if (t) all.add(t);
    for (const lin of Object.values(l.linears)) {
      all.add(lin.weight);
      if (lin.bias) all.add(lin.bias);
    }
  }
  return [...all];
}

export function disposeModel(model: QwenModel): void {
  modelTensors(model.weights).forEach((t) => t.dispose());
}
