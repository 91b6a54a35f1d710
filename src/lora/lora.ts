/**
 * LoRA adapters for the Qwen linears: y = x Wᵀ + (α / r) · (dropout(x) Aᵀ) Bᵀ (Hu et al. 2021,
 * eq. 3; PEFT `LoraLayer`). A starts kaiming-uniform (bound 1/√in, PEFT's default) from our seeded
 * rng, B starts at zero, so a fresh adapter leaves the base model unchanged. A and B are the only
 * trainable tensors (`tf.Variable`, held transposed as aT: [in, r], bT: [r, out] like the base
 * weights); the base model is never touched. No PEFT files here (peft.ts) and no merging (merge.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { Adapters, LoraTerm } from "../model/qwen.ts";
import { LINEAR_NAMES, linearKey, linearShape, type LinearName, type QwenModel } from "../model/weights.ts";
import { seededRng, type Rng } from "../util/rng.ts";

export type LoraConfig = {
  rank: number; // r
  alpha: number; // lora_alpha; the update is scaled by alpha / rank
  /** Probability of zeroing an input of the LoRA branch in a training forward (`withDropout`). */
  dropout: number;
  targets: LinearName[];
};

export const DEFAULT_TARGETS: readonly LinearName[] = LINEAR_NAMES;

/**
 * Trainable adapters for one model. `adapters` is the map `forward` consumes; `variables` holds
 * every aT and bT in a stable order (layer by layer, targets in `LINEAR_NAMES` order, aT before bT).
 */
export type Lora = {
  config: LoraConfig;
  adapters: Adapters;
  variables: tf.Variable[];
};

/** Initial values for one module, in the transposed layout: aT [in, r], bT [r, out]. */
export type TermValues = { aT: Float32Array; bT: Float32Array };

/** Checks a config at the boundary; returns it with targets deduplicated in `LINEAR_NAMES` order. */
export function checkLoraConfig(cfg: LoraConfig, where = "LoRA config"): LoraConfig {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new Error(`${where}: ${field} = ${JSON.stringify(value)}, expected ${want}`);
  };
  if (!Number.isInteger(cfg.rank) || cfg.rank < 1) bad("rank", cfg.rank, "a positive integer");
  if (!Number.isFinite(cfg.alpha) || cfg.alpha <= 0) bad("alpha", cfg.alpha, "a positive number");
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) bad("dropout", cfg.dropout, "a probability in [0, 1)");
  if (!Array.isArray(cfg.targets) || cfg.targets.length === 0) bad("targets", cfg.targets, `a non-empty list of ${LINEAR_NAMES.join(", ")}`);
  for (const t of cfg.targets)
    if (!(LINEAR_NAMES as readonly string[]).includes(t)) bad("targets", t, `one of ${LINEAR_NAMES.join(", ")}`);
  return { ...cfg, targets: LINEAR_NAMES.filter((n) => cfg.targets.includes(n)) };
}

/** One adapted linear: its layer, name, HF module key and [out, in] dims. */
export type LoraModule = { layer: number; name: LinearName; key: string; inDim: number; outDim: number };

/** Every adapted module of `model` for `targets`, in the stable variable order. */
export function loraModules(model: QwenModel, targets: readonly LinearName[]): LoraModule[] {
  const out: LoraModule[] = [];
  for (let layer = 0; layer < model.config.numLayers; layer++)
    for (const name of LINEAR_NAMES.filter((n) => targets.includes(n))) {
      const [outDim, inDim] = linearShape(model.config, name);
      out.push({ layer, name, key: linearKey(layer, name), inDim, outDim });
    }
  return out;
}

/** Fresh adapters: A ~ U(−1/√in, 1/√in) from `seededRng(seed, layer, linear index)`, B = 0. */
export function createLora(model: QwenModel, cfg: LoraConfig, seed: number): Lora {
  const config = checkLoraConfig(cfg);
  return buildLora(model, config, ({ layer, name, inDim, outDim }) => {
    // PEFT: kaiming_uniform_(A, a=√5) on A [r, in] has bound √(6 / ((1 + 5) · in)) = 1/√in
    const bound = 1 / Math.sqrt(inDim);
    const rng = seededRng(seed, layer, LINEAR_NAMES.indexOf(name));
    const aT = new Float32Array(inDim * config.rank);
    for (let i = 0; i < aT.length; i++) aT[i] = (2 * rng.next() - 1) * bound;
    return { aT, bT: new Float32Array(config.rank * outDim) };
  });
}

let instances = 0; // tfjs variable names must be unique among live variables

/**
 * Builds a `Lora` from per-module values (used by `createLora` and by `loadAdapter`).
 * `values` is called once per module in the stable order and may throw; nothing leaks then.
 */
export function buildLora(model: QwenModel, config: LoraConfig, values: (m: LoraModule) => TermValues): Lora {
  const instance = instances++;
  const adapters = new Map<string, LoraTerm>();
  const variables: tf.Variable[] = [];
  const variable = (data: Float32Array, shape: [number, number], name: string) => {
    const init = tf.tensor2d(data, shape);
    const v = tf.variable(init, true, `lora${instance}/${name}`) as tf.Variable<tf.Rank.R2>;
    init.dispose();
    variables.push(v);
    return v;
  };
  try {
    for (const m of loraModules(model, config.targets)) {
      const { aT, bT } = values(m);
      adapters.set(m.key, {
        aT: variable(aT, [m.inDim, config.rank], `${m.key}.aT`), // [in, r]
        bT: variable(bT, [config.rank, m.outDim], `${m.key}.bT`), // [r, out]
        scale: config.alpha / config.rank,
      });
    }
  } catch (error) {
    variables.forEach((v) => v.dispose());
    throw error;
  }
  return { config, adapters, variables };
}

export function disposeLora(lora: Lora): void {
  lora.variables.forEach((v) => v.dispose());
}

/** One training forward's LoRA dropout: the rate and a seed per adapted module (in adapter order). */
export type DropoutDraw = { rate: number; seeds: number[] };

/** Draws one training forward's dropout seeds from `rng`; undefined without dropout (rate 0). */
export function drawDropout(lora: Lora, rng: Rng): DropoutDraw | undefined {
  const rate = lora.config.dropout;
  if (rate === 0) return undefined;
  return { rate, seeds: [...lora.adapters.keys()].map(() => Math.floor(rng.next() * 2 ** 32)) };
}

/** `adapters` with each term dropping inputs of its LoRA branch by its own seed; unchanged without a draw. */
export function applyDropout(adapters: Adapters, draw: DropoutDraw | undefined): Adapters {
  if (!draw) return adapters;
  if (draw.seeds.length !== adapters.size) throw new Error(`dropout: ${draw.seeds.length} seeds for ${adapters.size} adapted modules`);
  const out = new Map<string, LoraTerm>();
  [...adapters].forEach(([key, term], i) => out.set(key, { ...term, dropout: { rate: draw.rate, seed: draw.seeds[i] } }));
  return out;
}

/**
 * The adapters for one training forward: each term drops inputs of its LoRA branch with its own
 * seed drawn from `rng`, so a step is reproducible from the run seed. Without dropout (rate 0)
 * this is `lora.adapters` itself. Sampling and evaluation use `lora.adapters` (no dropout).
 */
export function withDropout(lora: Lora, rng: Rng): Adapters {
  return applyDropout(lora.adapters, drawDropout(lora, rng));
}
