/**
 * Loads a Qwen checkpoint folder into tfjs tensors by Hugging Face key, checking every shape
 * against the config. Base weights are plain (frozen) `tf.Tensor`s. Linear weights are kept
 * transposed, [in, out] (HF stores [out, in]), because products with a transposed operand are
 * ~10× slower on the wasm backend (matmul.ts). A tied `lm_head` is stored once, as [C, V], and
 * the embedding lookup gathers its columns. Does not know about LoRA, RL or tokenizers.
 */
import * as tf from "@tensorflow/tfjs";
import { readQwenConfig, type QwenConfig } from "./hf-config.ts";
import { openCheckpoint, type Checkpoint } from "./safetensors.ts";

export const LINEAR_NAMES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];

/** One linear layer. `key` is its HF module path, e.g. "model.layers.0.self_attn.q_proj". */
export type Linear = { key: string; weightT: tf.Tensor2D /* [in, out] */; bias?: tf.Tensor1D /* [out] */ };

export type LayerWeights = {
  inputNorm: tf.Tensor1D; // [C]
  postAttentionNorm: tf.Tensor1D; // [C]
  qNorm?: tf.Tensor1D; // [D], Qwen3 only
  kNorm?: tf.Tensor1D; // [D], Qwen3 only
  linears: Record<LinearName, Linear>;
};

export type QwenWeights = {
  /** [V, C]; absent when tied (the lookup then gathers columns of lmHeadT). */
  embed?: tf.Tensor2D;
  layers: LayerWeights[];
  finalNorm: tf.Tensor1D; // [C]
  lmHeadT: tf.Tensor2D; // [C, V]
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
  const loadTransposed = (key: string, shape: [number, number]): tf.Tensor2D => {
    const hf = load<tf.Rank.R2>(key, shape);
    const t = hf.transpose() as tf.Tensor2D;
    created.splice(created.indexOf(hf), 1, t);
    hf.dispose();
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
          weightT: loadTransposed(`${key}.weight`, [out, inp]),
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
    if (cfg.tieWordEmbeddings) return { layers, finalNorm, lmHeadT: loadTransposed("model.embed_tokens.weight", [v, c]) };
    const embed = load<tf.Rank.R2>("model.embed_tokens.weight", [v, c]);
    return { embed, layers, finalNorm, lmHeadT: loadTransposed("lm_head.weight", [v, c]) };
  } catch (error) {
    created.forEach((t) => t.dispose());
    throw error;
  }
}

/** Every base tensor once (a tied lm_head is not listed twice). */
export function modelTensors(w: QwenWeights): tf.Tensor[] {
  const all = new Set<tf.Tensor>([w.finalNorm, w.lmHeadT]);
  if (w.embed) all.add(w.embed);
  for (const l of w.layers) {
    for (const t of [l.inputNorm, l.postAttentionNorm, l.qNorm, l.kNorm]) if (t) all.add(t);
    for (const lin of Object.values(l.linears)) {
      all.add(lin.weightT);
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
    lmHeadT: v(w.lmHeadT, "lm_head"),
    finalNorm: v(w.finalNorm, "norm"),
    layers: w.layers.map((l, i) => ({
      inputNorm: v(l.inputNorm, `${i}.input_norm`),
      postAttentionNorm: v(l.postAttentionNorm, `${i}.post_norm`),
      qNorm: l.qNorm && v(l.qNorm, `${i}.q_norm`),
      kNorm: l.kNorm && v(l.kNorm, `${i}.k_norm`),
      linears: Object.fromEntries(Object.entries(l.linears).map(([name, lin]) => [name, {
        key: lin.key, weightT: v(lin.weightT, `${lin.key}.weight`), bias: lin.bias && v(lin.bias, `${lin.key}.bias`),
      }])) as Record<LinearName, Linear>,
    })),
  };
  return { model: { ...model, weights }, variables: [...made.values()] };
}

export function disposeModel(model: QwenModel): void {
  modelTensors(model.weights).forEach((t) => t.dispose());
}
