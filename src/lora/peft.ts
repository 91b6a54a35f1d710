/**
 * LoRA adapters in Hugging Face PEFT layout, so Python PEFT and vLLM load them unchanged:
 * `adapter_config.json` (the `LoraConfig` fields PEFT writes) and `adapter_model.safetensors` with
 * `base_model.model.{module}.lora_A.weight` [r, in] and `…lora_B.weight` [out, r].
 * Loading validates everything against the model and names file and key in each error. Plain LoRA
 * only: DoRA, rsLoRA, per-module rank/alpha patterns, bias training and modules_to_save are rejected.
 */
import fs from "node:fs";
import path from "node:path";
import { isCheckpointDir, modelFingerprint } from "../model/fingerprint.ts";
import { openSafetensors, writeSafetensors, type SafetensorsFile, type TensorToWrite } from "../model/safetensors.ts";
import { LINEAR_NAMES, type LinearName, type QwenModel } from "../model/weights.ts";
import { buildLora, checkLoraConfig, loraModules, type Lora, type LoraConfig } from "./lora.ts";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
/** trirl's record of the base (adapter-base.ts); PEFT and vLLM ignore the file. */
export const BASE_RECORD_FILE = "trirl_base_model.json";

export type BaseRecord = { path: string; fingerprint: string };

/** PEFT's state-dict key for one factor of the adapter on `moduleKey` ("model.layers.0.self_attn.q_proj"). */
export function peftKey(moduleKey: string, factor: "lora_A" | "lora_B"): string {
  return `base_model.model.${moduleKey}.${factor}.weight`;
}

/** Transposes a row-major [rows, cols] matrix. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}

/** The `adapter_config.json` PEFT writes for plain LoRA on a causal LM (defaults spelled out). */
export function peftAdapterConfig(cfg: LoraConfig, baseModel: string): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: cfg.alpha,
    lora_dropout: cfg.dropout,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: cfg.rank,
    rank_pattern: {},
    revision: null,
    target_modules: [...cfg.targets],
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  };
}

/** An adapter's factors read back from the backend, in PEFT layout, ready to write. */
export type AdapterSnapshot = { config: LoraConfig; tensors: TensorToWrite[] };

/** Reads every factor asynchronously (a GPU backend has no cheap synchronous read), all reads in flight at once. */
export async function snapshotAdapter(lora: Lora): Promise<AdapterSnapshot> {
  const terms = [...lora.adapters];
  const values = await Promise.all(terms.flatMap(([, term]) => [term.aT.data(), term.bT.data()]));
  const tensors: TensorToWrite[] = [];
  terms.forEach(([key, term], i) => {
    const [inDim, r] = term.aT.shape;
    const outDim = term.bT.shape[1];
    tensors.push({ name: peftKey(key, "lora_A"), shape: [r, inDim], data: transpose(values[2 * i] as Float32Array, inDim, r) });
    tensors.push({ name: peftKey(key, "lora_B"), shape: [outDim, r], data: transpose(values[2 * i + 1] as Float32Array, r, outDim) });
  });
  return { config: lora.config, tensors };
}

/**
 * Writes `dir/adapter_model.safetensors` then `dir/adapter_config.json`, each to a temp file renamed
 * into place, so a reader never sees a half-written file, then trirl's record of the base
 * (BASE_RECORD_FILE) when `baseModelDir` is a local checkpoint folder. Creates `dir` if needed.
 */
export function writeAdapter(dir: string, snapshot: AdapterSnapshot, meta: { baseModelDir: string }): void {
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), snapshot.tensors, { format: "pt" });
  const configPath = path.join(dir, ADAPTER_CONFIG_FILE);
  const tmp = `${configPath}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(peftAdapterConfig(snapshot.config, meta.baseModelDir), null, 2)}\n`);
  fs.renameSync(tmp, configPath);
  if (!isCheckpointDir(meta.baseModelDir)) return; // a hub id: nothing local to fingerprint
  const record: BaseRecord = { path: path.resolve(meta.baseModelDir), fingerprint: modelFingerprint(meta.baseModelDir) };
  fs.writeFileSync(path.join(dir, BASE_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** `snapshotAdapter`, then `writeAdapter`. */
export async function saveAdapter(dir: string, lora: Lora, meta: { baseModelDir: string }): Promise<void> {
  writeAdapter(dir, await snapshotAdapter(lora), meta);
}

/**
 * Reads a PEFT LoRA adapter for `model`. Throws, naming the file and key, when the config asks for
 * something trirl does not implement or the weights do not match the config and the model.
 * The caller owns the returned variables (`disposeLora`).
 */
export function loadAdapter(dir: string, model: QwenModel): Lora {
  const config = readAdapterConfig(dir);
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  if (!fs.existsSync(weightsPath)) {
    const hasBin = fs.existsSync(path.join(dir, "adapter_model.bin"));
    throw new Error(`${dir}: no ${ADAPTER_WEIGHTS_FILE}` + (hasBin ? "\n---> HINT: only adapter_model.bin is present; re-save it with PEFT's safe_serialization=True" : ""));
  }
  const file = openSafetensors(weightsPath);
  try {
    checkWeights(file, model, config);
    return buildLora(model, config, ({ key, inDim, outDim }) => ({
      aT: transpose(file.read(peftKey(key, "lora_A")), config.rank, inDim), // [r, in] → [in, r]
      bT: transpose(file.read(peftKey(key, "lora_B")), outDim, config.rank), // [out, r] → [r, out]
    }));
  } finally {
    file.close();
  }
}

/** Every expected key present with its shape, and no other key (header only; reads no data). */
function checkWeights(file: SafetensorsFile, model: QwenModel, config: LoraConfig): void {
  const r = config.rank;
  const expected = new Set<string>();
  for (const { key, name, inDim, outDim } of loraModules(model, config.targets)) {
    const want: [string, number[], number][] = [
      [peftKey(key, "lora_A"), [r, inDim], 0],
      [peftKey(key, "lora_B"), [outDim, r], 1],
    ];
    for (const [k, shape, rankAxis] of want) {
      expected.add(k);
      const entry = file.entries.get(k);
      if (!entry)
        throw new Error(`${file.path}: missing tensor "${k}" (adapter_config.json targets ${name} with r = ${r}, so every layer needs it)`);
      if (entry.shape.length !== 2 || entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
        const rankOnly = entry.shape.length === 2 && entry.shape[1 - rankAxis] === shape[1 - rankAxis];
        throw new Error(
          rankOnly
            ? `${file.path}: tensor "${k}" has rank ${entry.shape[rankAxis]} (shape [${entry.shape}]) but adapter_config.json says r = ${r}`
            : `${file.path}: tensor "${k}" has shape [${entry.shape}], expected [${shape}] for this model's ${name}\n---> HINT: was the adapter trained on a different base model?`,
        );
      }
    }
  }
  const extra = [...file.entries.keys()].filter((k) => !expected.has(k));
  if (extra.length > 0)
    throw new Error(
      `${file.path}: ${extra.length} unexpected tensor(s), e.g. "${extra[0]}" (expected only lora_A/lora_B of ${config.targets.join(", ")} ` +
        `in layers 0..${model.config.numLayers - 1})\n---> HINT: a different base model, or a target_modules list that does not match the weights?`,
    );
}

/** Values of these fields other than PEFT's default mean a LoRA variant trirl does not implement. */
const UNSUPPORTED: [field: string, isDefault: (v: unknown) => boolean][] = [
  ["bias", (v) => v === undefined || v === "none"],
  ["fan_in_fan_out", (v) => !v],
  ["use_dora", (v) => !v],
  ["use_rslora", (v) => !v],
  ["lora_bias", (v) => !v],
  ["modules_to_save", (v) => v == null || (Array.isArray(v) && v.length === 0)],
  ["layers_to_transform", (v) => v == null],
  ["layer_replication", (v) => v == null],
  ["rank_pattern", (v) => v == null || (typeof v === "object" && Object.keys(v).length === 0)],
  ["alpha_pattern", (v) => v == null || (typeof v === "object" && Object.keys(v).length === 0)],
];

/** `adapter_config.json` → `LoraConfig`, rejecting what plain LoRA on the 7 Qwen linears cannot express. */
export function readAdapterConfig(dir: string): LoraConfig {
  const where = path.join(dir, ADAPTER_CONFIG_FILE);
  if (!fs.existsSync(where)) throw new Error(`${dir}: no ${ADAPTER_CONFIG_FILE}\n---> HINT: point at a folder written by saveAdapter or PEFT save_pretrained`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(where, "utf8"));
  } catch (cause) {
    throw new Error(`${where}: not valid JSON`, { cause });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where}: expected a JSON object`);
  if (raw.peft_type !== "LORA") throw new Error(`${where}: "peft_type" = ${JSON.stringify(raw.peft_type)}, expected "LORA"`);
  for (const [field, isDefault] of UNSUPPORTED)
    if (!isDefault(raw[field]))
      throw new Error(`${where}: "${field}" = ${JSON.stringify(raw[field])} is not supported (trirl implements plain LoRA on ${LINEAR_NAMES.join(", ")})`);
  const field = (name: string, ok: (v: number) => boolean, want: string, fallback?: number): number => {
    const v = raw[name] ?? fallback;
    if (typeof v !== "number" || !ok(v)) throw new Error(`${where}: "${name}" = ${JSON.stringify(raw[name])}, expected ${want}`);
    return v;
  };
  return checkLoraConfig(
    {
      rank: field("r", (v) => Number.isInteger(v) && v >= 1, "a positive integer"),
      alpha: field("lora_alpha", (v) => Number.isFinite(v) && v > 0, "a positive number"),
      dropout: field("lora_dropout", (v) => v >= 0 && v < 1, "a probability in [0, 1)", 0),
      targets: readTargets(raw.target_modules, where),
    },
    where,
  );
}

function readTargets(value: unknown, where: string): LinearName[] {
  if (value === "all-linear") return [...LINEAR_NAMES]; // PEFT: every linear except the output head
  const names = LINEAR_NAMES as readonly string[];
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && names.includes(v)))
    throw new Error(
      `${where}: "target_modules" = ${JSON.stringify(value)}, expected "all-linear" or a non-empty list of ${LINEAR_NAMES.join(", ")}` +
        "\n---> HINT: regex patterns and full module paths are not supported",
    );
  return value as LinearName[];
}
