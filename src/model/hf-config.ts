/**
 * `config.json` of a Hugging Face Qwen2 / Qwen2.5 / Qwen3 checkpoint → `QwenConfig`.
 * HF field names stay verbatim in the zod schema; `toQwenConfig` is the one place that maps
 * them to camelCase. Extra HF keys are fine; features we do not implement (rope scaling,
 * sliding-window attention, other activations) are rejected with a message naming the key.
 * Reference: transformers `configuration_qwen2.py`, `configuration_qwen3.py`.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const positiveInt = z.number().int().positive();
const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const HfQwenConfig = z.object({
  model_type: z.enum(["qwen2", "qwen3"]),
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.nullish(),
  vocab_size: positiveInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.unknown().nullish(),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().optional(),
  hidden_act: z.string().default("silu"),
  max_position_embeddings: positiveInt.default(32768),
  use_sliding_window: z.boolean().default(false),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: tokenIds,
});
export type HfQwenConfig = z.infer<typeof HfQwenConfig>;

export type QwenConfig = {
  modelType: "qwen2" | "qwen3";
  hiddenSize: number; // C
  intermediateSize: number;
  numLayers: number;
  numHeads: number; // H
  numKvHeads: number; // K
  headDim: number; // D
  vocabSize: number; // V
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections: always in Qwen2, `attention_bias` in Qwen3. */
  hasQkvBias: boolean;
  /** Qwen3 applies a per-head RMSNorm to q and k before RoPE. */
  hasQkNorm: boolean;
  maxPositionEmbeddings: number;
  eosTokenIds: number[];
};

/** Validates a parsed `config.json`; `where` names its source in error messages. */
export function toQwenConfig(raw: unknown, where: string): QwenConfig {
  const modelType = (raw as { model_type?: unknown })?.model_type;
  if (modelType !== "qwen2" && modelType !== "qwen3")
    throw new Error(`${where}: model_type ${JSON.stringify(modelType)} is not supported (expected "qwen2" or "qwen3")`);
  const parsed = HfQwenConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: key "${issue.path.join(".")}": ${issue.message}`);
  }
  const c = parsed.data;
  if (c.rope_scaling != null)
    throw new Error(`${where}: key "rope_scaling" = ${JSON.stringify(c.rope_scaling)} is not supported (only null, plain RoPE)`);
  if (c.use_sliding_window) throw new Error(`${where}: key "use_sliding_window" = true is not supported`);
  if (c.hidden_act !== "silu") throw new Error(`${where}: key "hidden_act" = "${c.hidden_act}" is not supported (only "silu")`);
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0)
    throw new Error(`${where}: num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new Error(`${where}: head dimension ${headDim} must be an even integer (set "head_dim")`);
  const eos = c.eos_token_id;
  return {
    modelType: c.model_type,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    vocabSize: c.vocab_size,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    tieWordEmbeddings: c.tie_word_embeddings,
    hasQkvBias: c.model_type === "qwen2" ? true : (c.attention_bias ?? false),
    hasQkNorm: c.model_type === "qwen3",
    maxPositionEmbeddings: c.max_position_embeddings,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
  };
}

/** Reads and validates `DIR/config.json`. */
export function readQwenConfig(dir: string): QwenConfig {
  const file = path.join(dir, "config.json");
  if (!fs.existsSync(file)) throw new Error(`${file}: not found\n---> HINT: --model must be a Hugging Face checkpoint folder`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`${file}: not valid JSON`, { cause });
  }
  const config = toQwenConfig(raw, file);
  return { ...config, eosTokenIds: [...new Set([...config.eosTokenIds, ...generationEosIds(dir)])] };
}

/** `eos_token_id` of `generation_config.json` (HF `generate` stops on these too), if present. */
function generationEosIds(dir: string): number[] {
  const file = path.join(dir, "generation_config.json");
  if (!fs.existsSync(file)) return [];
  let raw: { eos_token_id?: unknown };
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`${file}: not valid JSON`, { cause });
  }
  const parsed = tokenIds.safeParse(raw.eos_token_id);
  if (!parsed.success) throw new Error(`${file}: key "eos_token_id" must be an integer or a list of integers`);
  const eos = parsed.data;
  return eos == null ? [] : Array.isArray(eos) ? eos : [eos];
}

/**
 * A model folder may carry `system_prompt.txt`: the system message the model was trained with
 * (the embedded tiny model and everything derived from it use a one-line prompt). Undefined when
 * the folder or the file is absent.
 */
export const SYSTEM_PROMPT_FILE = "system_prompt.txt";
export function readModelSystemPrompt(dir: string): string | undefined {
  const file = path.join(dir, SYSTEM_PROMPT_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").replace(/\n$/, "") : undefined;
}
