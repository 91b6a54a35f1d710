/**
 * The embedded default model: a deterministic, randomly initialised Qwen3-architecture checkpoint
 * written as a real HF folder (config.json, model.safetensors, tokenizer files) on first use.
 * Sized for CPU training runs in CI: ~1.8 M parameters, so a GRPO step on a 2-core box takes
 * seconds. The vocabulary is the real Qwen3 BPE cut to its first 8,192 ids (tiny-tokenizer.ts):
 * with the full 151,936 ids the LM head alone would be 10× the rest of the network.
 * Its chat template is Qwen's turn structure (same special tokens, roles, <tool_response> turns)
 * with a compact tool list — one line per tool instead of a JSON schema — which halves the
 * prompt (~400 → ~200 tokens) and so the CPU cost of every rollout and update. It knows nothing
 * until trained: the smoke run's warm start teaches it the wire format.
 */
import fs from "node:fs";
import path from "node:path";
import { randNormal, seededRng } from "../util/rng.ts";
import { writeSafetensors, type TensorToWrite } from "./safetensors.ts";
import { writeTinyQwenTokenizer } from "./tiny-tokenizer.ts";
import { LINEAR_NAMES, linearKey, linearShape } from "./weights.ts";
import { SYSTEM_PROMPT_FILE, toQwenConfig } from "./hf-config.ts";

export const TINY_MODEL_SPEC = {
  hiddenSize: 128,
  numLayers: 4,
  numHeads: 4,
  // one kv head (MQA) so that, one episode at a time, attention products are 2-D and reach
  // XNNPACK: a training pass runs ~2× faster than with 2 kv heads (batched products are naive)
  numKvHeads: 1,
  headDim: 32,
  intermediateSize: 384,
  vocabSize: 8192,
  ropeTheta: 1_000_000,
  initStd: 0.02,
  // tied head: the largest logit is ≈ C · embedStd (post-norm |h| = √C, |e| = embedStd·√C), and
  // LoRA cannot rescale the frozen final norm, so 0.02 would cap logits near 2.6 (loss ≥ ~6.4)
  embedStd: 0.1,
  seed: 1234,
} as const;
export type TinyModelSpec = { -readonly [K in keyof typeof TINY_MODEL_SPEC]: number };
/** Bump when the generated files change in a way the spec does not show (e.g. the template). */
const GENERATOR_VERSION = 3; // 3: writes system_prompt.txt

/** Default location: `models/tiny-qwen3` at the repository root. */
export const DEFAULT_TINY_MODEL_DIR = path.resolve(import.meta.dirname, "..", "..", "models", "tiny-qwen3");
const MARKER = "trirl-tiny-model.json";

/**
 * The tiny model's system message: a model trained from scratch cannot read the sandbox's
 * protocol text, which would be a third of each of its sequences. Written to `system_prompt.txt`.
 */
export const TINY_SYSTEM_PROMPT = "Use the tools.";

/** Returns `dir`, generating the checkpoint there first unless the same spec is already written. */
export function ensureTinyModel(dir: string = DEFAULT_TINY_MODEL_DIR, spec: TinyModelSpec = { ...TINY_MODEL_SPEC }): string {
  const marker = path.join(dir, MARKER);
  const stamp = JSON.stringify({ ...spec, generatorVersion: GENERATOR_VERSION });
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === stamp) return dir;
  // write into a sibling temp folder and rename, so a crash never leaves a half-written model
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  writeTinyModel(tmp, spec);
  fs.writeFileSync(path.join(tmp, SYSTEM_PROMPT_FILE), `${TINY_SYSTEM_PROMPT}\n`);
  fs.writeFileSync(path.join(tmp, MARKER), stamp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(tmp, dir);
  return dir;
}

/** Qwen's chat structure with one line per tool: "- name(arg: type, …): description". */
export const TINY_CHAT_TEMPLATE = [
  "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n' }}{%- endif %}",
  "{{- 'Tools:' }}{%- for tool in tools %}{%- set f = tool.function if tool.function is defined else tool %}",
  "{{- '\\n- ' + f.name + '(' }}{%- for key, schema in f.parameters.properties | items %}{{- key + ': ' + (schema.type or 'any') }}{%- if not loop.last %}{{- ', ' }}{%- endif %}{%- endfor %}",
  "{{- '): ' + f.description }}{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}",
  "{%- for message in messages %}",
  "{%- if message.role == 'system' %}{%- if not (loop.first and tools) %}{{- '<|im_start|>system\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}",
  "{%- elif message.role == 'user' %}{{- '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}",
  "{%- elif message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' + message.content }}",
  "{%- for tc in (message.tool_calls or []) %}{%- set call = tc.function if tc.function is defined else tc %}",
  "{{- '\\n<tool_call>\\n{\"name\": \"' + call.name + '\", \"arguments\": ' + (call.arguments if call.arguments is string else call.arguments | tojson) + '}\\n</tool_call>' }}{%- endfor %}",
  "{{- '<|im_end|>\\n' }}",
  "{%- elif message.role == 'tool' %}{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}",
  "{{- '\\n<tool_response>\\n' + message.content + '\\n</tool_response>' }}",
  "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}",
  "{%- endif %}{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
].join("");

function writeTinyModel(dir: string, spec: TinyModelSpec): void {
  const ids = writeTinyQwenTokenizer(dir, { vocabSize: spec.vocabSize });
  const configPath = path.join(dir, "tokenizer_config.json");
  const tokenizerConfig = JSON.parse(fs.readFileSync(configPath, "utf8"));
  fs.writeFileSync(configPath, `${JSON.stringify({ ...tokenizerConfig, chat_template: TINY_CHAT_TEMPLATE }, null, 2)}\n`);
  const hfConfig = {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    hidden_act: "silu",
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    head_dim: spec.headDim,
    attention_bias: false,
    vocab_size: spec.vocabSize,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: spec.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: true,
    use_sliding_window: false,
    bos_token_id: ids.bosTokenId,
    eos_token_id: ids.eosTokenId,
    torch_dtype: "float32",
  };
  fs.writeFileSync(path.join(dir, "config.json"), `${JSON.stringify(hfConfig, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "generation_config.json"), `${JSON.stringify({ eos_token_id: [ids.eosTokenId, ids.padTokenId], pad_token_id: ids.padTokenId }, null, 2)}\n`);
  writeSafetensors(path.join(dir, "model.safetensors"), randomWeights(spec, path.join(dir, "config.json")), { format: "pt" });
}

function randomWeights(spec: TinyModelSpec, where: string): TensorToWrite[] {
  const cfg = toQwenConfig(JSON.parse(fs.readFileSync(where, "utf8")), where);
  const rng = seededRng(spec.seed);
  const normal = (shape: number[], std = spec.initStd) => Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => randNormal(rng) * std);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const tensors: TensorToWrite[] = [
    { name: "model.embed_tokens.weight", shape: [cfg.vocabSize, cfg.hiddenSize], data: normal([cfg.vocabSize, cfg.hiddenSize], spec.embedStd) },
    { name: "model.norm.weight", shape: [cfg.hiddenSize], data: ones(cfg.hiddenSize) },
  ];
  for (let i = 0; i < cfg.numLayers; i++) {
    for (const name of LINEAR_NAMES) {
      const shape = linearShape(cfg, name);
      tensors.push({ name: `${linearKey(i, name)}.weight`, shape, data: normal(shape) });
    }
    for (const norm of ["input_layernorm", "post_attention_layernorm"])
      tensors.push({ name: `model.layers.${i}.${norm}.weight`, shape: [cfg.hiddenSize], data: ones(cfg.hiddenSize) });
    for (const norm of ["q_norm", "k_norm"])
      tensors.push({ name: `model.layers.${i}.self_attn.${norm}.weight`, shape: [cfg.headDim], data: ones(cfg.headDim) });
  }
  return tensors;
}
