/**
 * Folds LoRA adapters into the base weights and writes a full Hugging Face checkpoint for export:
 * W' = W + (α / r) · B A in HF layout [out, in], every other weight as loaded, F32, one
 * `model.safetensors`; config.json, generation_config.json and the tokenizer files are copied.
 * Dropout does not apply (inference). Does not quantize, shard or change config.json.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { hfLayout, weightDims, type Weight } from "../model/matmul.ts";
import type { Adapters, LoraTerm } from "../model/qwen.ts";
import { SYSTEM_PROMPT_FILE } from "../model/hf-config.ts";
import { writeSafetensors, type TensorToWrite } from "../model/safetensors.ts";
import type { Linear, QwenModel } from "../model/weights.ts";
import { assert } from "../util/assert.ts";
import type { Lora } from "./lora.ts";

/** Files copied verbatim from the base folder when present (config.json is required). */
const COPIED_FILES = [
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "chat_template.jinja",
  SYSTEM_PROMPT_FILE,
];

/** Writes `outDir` as a checkpoint that `loadModel` (and transformers) reads as base + adapters. */
export async function mergeAdapter(model: QwenModel, lora: Lora, outDir: string): Promise<void> {
  await saveModel(model, outDir, lora.adapters);
}

/**
 * Writes `model` (its current weight values, e.g. after a full fine-tune) as a checkpoint in
 * `outDir`, with `adapters` folded into the linears.
 */
export async function saveModel(model: QwenModel, outDir: string, adapters: Adapters = new Map()): Promise<void> {
  if (path.resolve(outDir) === path.resolve(model.dir))
    throw new Error(`saveModel: output folder ${outDir} is the base model's folder; refusing to overwrite the base checkpoint`);
  if (fs.existsSync(path.join(outDir, "model.safetensors.index.json")))
    throw new Error(`${outDir}: holds model.safetensors.index.json, which would shadow the merged model.safetensors\n---> HINT: merge into an empty folder`);
  const modelKeys = new Set(model.weights.layers.flatMap((l) => Object.values(l.linears).map((lin) => lin.key)));
  for (const key of adapters.keys()) assert(modelKeys.has(key), `saveModel: adapter module "${key}" is not in the model`);
  fs.mkdirSync(outDir, { recursive: true });
  const tensors = await hfTensors(model, adapters);
  writeSafetensors(path.join(outDir, "model.safetensors"), tensors, { format: "pt" });
  fs.copyFileSync(path.join(model.dir, "config.json"), path.join(outDir, "config.json"));
  for (const name of COPIED_FILES) {
    const from = path.join(model.dir, name);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(outDir, name));
  }
}

/**
 * Every base weight under its HF key and in HF layout, with adapters folded into the linears.
 * Read back asynchronously, one tensor at a time: a transient (merged, transposed) copy is made
 * just before its read and disposed after it, so at most one exists.
 */
async function hfTensors(model: QwenModel, adapters: Adapters): Promise<TensorToWrite[]> {
  const w = model.weights;
  const reads: { name: string; t: tf.Tensor | (() => tf.Tensor) }[] = [];
  const plain = (name: string, t: tf.Tensor | (() => tf.Tensor)) => reads.push({ name, t });
  const hf = (name: string, weight: Weight) => plain(name, () => hfLayout(weight)); // HF [out, in]
  w.layers.forEach((l, i) => {
    const p = `model.layers.${i}`;
    plain(`${p}.input_layernorm.weight`, l.inputNorm);
    plain(`${p}.post_attention_layernorm.weight`, l.postAttentionNorm);
    if (l.qNorm) plain(`${p}.self_attn.q_norm.weight`, l.qNorm);
    if (l.kNorm) plain(`${p}.self_attn.k_norm.weight`, l.kNorm);
    for (const lin of Object.values(l.linears)) {
      plain(`${lin.key}.weight`, () => mergedWeight(lin, adapters.get(lin.key))); // [out, in]
      if (lin.bias) plain(`${lin.key}.bias`, lin.bias);
    }
  });
  plain("model.norm.weight", w.finalNorm);
  if (w.embed) {
    plain("model.embed_tokens.weight", w.embed);
    hf("lm_head.weight", w.lmHead);
  } else {
    hf("model.embed_tokens.weight", w.lmHead); // tied: the head is the embedding
  }
  const out: TensorToWrite[] = [];
  for (const { name, t } of reads) {
    const tensor = typeof t === "function" ? t() : t;
    try {
      out.push({ name, shape: tensor.shape, data: (await tensor.data()) as Float32Array });
    } finally {
      if (tensor !== t) tensor.dispose();
    }
  }
  return out;
}

/** W + scale · B A as HF [out, in]; the caller disposes it. */
function mergedWeight(lin: Linear, term: LoraTerm | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const base = hfLayout(lin.weight); // [out, in]
    if (!term) return base;
    const { inDim, outDim } = weightDims(lin.weight);
    assert(
      term.aT.shape[0] === inDim && term.bT.shape[1] === outDim,
      () => `mergeAdapter: adapter on "${lin.key}" is [${term.aT.shape[0]}, ${term.bT.shape[1]}], weight is [${inDim}, ${outDim}] ([in, out])`,
    );
    // W + scale · B A = W + scale · (Aᵀ Bᵀ)ᵀ, HF [out, in]
    return base.add(tf.matMul(term.aT, term.bT).transpose().mul(term.scale)) as tf.Tensor2D;
  });
}
