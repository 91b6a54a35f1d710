/**
 * PEFT layout: the literal keys, shapes and config fields Python PEFT writes; save → load gives
 * identical values and logits; every malformed adapter is rejected with the file and key named.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLora, disposeLora, type Lora, type LoraConfig } from "../../src/lora/lora.ts";
import { loadAdapter, saveAdapter } from "../../src/lora/peft.ts";
import { initBackend } from "../../src/model/backend.ts";
import { openSafetensors, writeSafetensors, type TensorToWrite } from "../../src/model/safetensors.ts";
import { disposeModel, LINEAR_NAMES, loadModel, type QwenModel } from "../../src/model/weights.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { fixtureDir, readExpected } from "../helpers/fixtures.ts";
import { logitsOf, randomizeLora, tempDir } from "./helpers.ts";

const CFG: LoraConfig = { rank: 4, alpha: 8, dropout: 0.05, targets: [...LINEAR_NAMES] };
const Q_A = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
const Q_B = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
const DOWN_A = "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight";
const DOWN_B = "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight";

let model: QwenModel; // qwen3-tiny: C = 64, H·D = 4·32 = 128, F = 128, 2 layers
let lora: Lora;
let root: string;
let saved: string;

beforeAll(async () => {
  await initBackend("wasm");
  model = loadModel(fixtureDir("qwen3-tiny"));
  lora = createLora(model, CFG, 1);
  randomizeLora(lora, 2);
  root = tempDir("peft");
  saved = path.join(root, "adapter");
  await saveAdapter(saved, lora, { baseModelDir: "Qwen/Qwen3-tiny" });
});
afterAll(() => {
  disposeLora(lora);
  disposeModel(model);
  fs.rmSync(root, { recursive: true, force: true });
});

/** A copy of the saved adapter with its config and tensors edited. */
function variant(name: string, edit: { config?: Record<string, unknown>; tensors?: (t: TensorToWrite[]) => TensorToWrite[] }): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(saved, "adapter_config.json"), "utf8"));
  fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ ...config, ...edit.config }));
  const file = openSafetensors(path.join(saved, "adapter_model.safetensors"));
  const tensors = [...file.entries].map(([n, e]) => ({ name: n, shape: e.shape, data: file.read(n) }));
  file.close();
  writeSafetensors(path.join(dir, "adapter_model.safetensors"), edit.tensors ? edit.tensors(tensors) : tensors);
  return dir;
}

describe("saveAdapter", () => {
  it("writes the tensor keys and shapes PEFT writes: lora_A [r, in], lora_B [out, r]", () => {
    const file = openSafetensors(path.join(saved, "adapter_model.safetensors"));
    expect(file.entries.get(Q_A)?.shape).toEqual([4, 64]);
    expect(file.entries.get(Q_B)?.shape).toEqual([128, 4]);
    expect(file.entries.get(DOWN_A)?.shape).toEqual([4, 128]);
    expect(file.entries.get(DOWN_B)?.shape).toEqual([64, 4]);
    expect(file.entries.size).toBe(2 * 7 * 2);
    expect([...file.entries.keys()].every((k) => /^base_model\.model\.model\.layers\.[01]\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$/.test(k))).toBe(true);
    expect([...file.entries.values()].every((e) => e.dtype === "F32")).toBe(true);
    // layout: A[k][i] = aT[i][k], B[j][k] = bT[k][j]
    const term = lora.adapters.get("model.layers.0.self_attn.q_proj")!;
    const [a, aT] = [file.read(Q_A), term.aT.arraySync()];
    const [b, bT] = [file.read(Q_B), term.bT.arraySync()];
    expect(a[2 * 64 + 5]).toBe(aT[5][2]);
    expect(b[7 * 4 + 3]).toBe(bT[3][7]);
    file.close();
  });

  it("writes adapter_config.json with PEFT's LoRA fields", () => {
    const config = JSON.parse(fs.readFileSync(path.join(saved, "adapter_config.json"), "utf8"));
    expect(config).toMatchObject({
      peft_type: "LORA", task_type: "CAUSAL_LM", r: 4, lora_alpha: 8, lora_dropout: 0.05,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      bias: "none", base_model_name_or_path: "Qwen/Qwen3-tiny", fan_in_fan_out: false, inference_mode: true,
      use_dora: false, use_rslora: false, modules_to_save: null, rank_pattern: {}, alpha_pattern: {},
    });
  });

  it("leaves no temp files behind", () => {
    expect(fs.readdirSync(saved).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
  });
});

describe("loadAdapter", () => {
  it("round-trips: identical config, values and logits", () => {
    const loaded = loadAdapter(saved, model);
    expect(loaded.config).toEqual(lora.config);
    expect([...loaded.adapters.keys()]).toEqual([...lora.adapters.keys()]);
    loaded.variables.forEach((v, i) => expect(v.dataSync()).toEqual(lora.variables[i].dataSync()));
    const ids = readExpected("qwen3-tiny").cases[0].input_ids;
    expect(logitsOf(model, ids, loaded.adapters)).toEqual(logitsOf(model, ids, lora.adapters));
    disposeLora(loaded);
  });

  it("round-trips a subset of targets", async () => {
    const sub = createLora(model, { ...CFG, targets: ["v_proj", "down_proj"] }, 3);
    const dir = path.join(root, "subset");
    await saveAdapter(dir, sub, { baseModelDir: model.dir });
    const loaded = loadAdapter(dir, model);
    expect(loaded.config.targets).toEqual(["v_proj", "down_proj"]);
    expect(loaded.variables.map((v) => v.shape)).toEqual(sub.variables.map((v) => v.shape));
    loaded.variables.forEach((v, i) => expect(v.dataSync()).toEqual(sub.variables[i].dataSync()));
    [sub, loaded].forEach(disposeLora);
  });

  it('accepts target_modules "all-linear" and BF16 weights, as PEFT may save them', () => {
    const dir = variant("bf16", { config: { target_modules: "all-linear" }, tensors: (ts) => ts.map((t) => ({ ...t, dtype: "BF16" as const })) });
    const loaded = loadAdapter(dir, model);
    expect(loaded.config.targets).toEqual([...LINEAR_NAMES]);
    // bf16 keeps 8 significant bits: round to nearest is off by at most 2⁻⁸ relative
    loaded.variables.forEach((v, i) => expectClose(v.dataSync(), lora.variables[i].dataSync(), { atol: 0, rtol: 2 ** -8 }));
    expect(loaded.variables[0].dataSync()).not.toEqual(lora.variables[0].dataSync());
    disposeLora(loaded);
  });

  it.each<[string, Parameters<typeof variant>[1], RegExp]>([
    ["missing key", { tensors: (ts) => ts.filter((t) => t.name !== DOWN_B) }, /missing tensor "base_model\.model\.model\.layers\.0\.mlp\.down_proj\.lora_B\.weight"/],
    ["wrong shape", { tensors: (ts) => ts.map((t) => (t.name === Q_B ? { ...t, shape: [64, 8] } : t)) }, /tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_B\.weight" has shape \[64,8\], expected \[128,4\]/],
    ["wrong rank", { config: { r: 8 } }, /tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight" has rank 4 \(shape \[4,64\]\) but adapter_config\.json says r = 8/],
    ["extra key", { tensors: (ts) => [...ts, { name: "base_model.model.model.layers.2.mlp.up_proj.lora_A.weight", shape: [4, 64], data: new Float32Array(256) }] }, /unexpected tensor\(s\), e\.g\. "base_model\.model\.model\.layers\.2\.mlp\.up_proj\.lora_A\.weight"/],
    ["targets without weights", { config: { target_modules: ["q_proj"] } }, /unexpected tensor/],
    ["another PEFT method", { config: { peft_type: "IA3" } }, /"peft_type" = "IA3", expected "LORA"/],
    ["DoRA", { config: { use_dora: true } }, /"use_dora" = true is not supported/],
    ["rsLoRA", { config: { use_rslora: true } }, /"use_rslora" = true is not supported/],
    ["a rank pattern", { config: { rank_pattern: { q_proj: 8 } } }, /"rank_pattern" = \{"q_proj":8\} is not supported/],
    ["modules_to_save", { config: { modules_to_save: ["lm_head"] } }, /"modules_to_save" = \["lm_head"\] is not supported/],
    ["a regex target", { config: { target_modules: ".*proj" } }, /"target_modules" = ".\*proj"/],
    ["a zero rank", { config: { r: 0 } }, /"r" = 0, expected a positive integer/],
  ])("rejects %s, naming file and key", (label, edit, message) => {
    const dir = variant(label.replace(/\W+/g, "-"), edit);
    const before = tf.memory().numTensors;
    expect(() => loadAdapter(dir, model)).toThrow(message);
    expect(() => loadAdapter(dir, model)).toThrow(dir);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a folder without adapter_config.json or weights", () => {
    const empty = path.join(root, "empty");
    fs.mkdirSync(empty);
    expect(() => loadAdapter(empty, model)).toThrow(/no adapter_config\.json/);
    fs.copyFileSync(path.join(saved, "adapter_config.json"), path.join(empty, "adapter_config.json"));
    fs.writeFileSync(path.join(empty, "adapter_model.bin"), "");
    expect(() => loadAdapter(empty, model)).toThrow(/no adapter_model\.safetensors[^]*safe_serialization/);
  });

  it("rejects an adapter for a model with other shapes", () => {
    const other = loadModel(fixtureDir("qwen2-tiny")); // H·D = 4·16 = 64, not 128
    expect(() => loadAdapter(saved, other)).toThrow(/q_proj\.lora_B\.weight" has shape \[128,4\], expected \[64,4\][^]*different base model/);
    disposeModel(other);
  });
});

describe("no tensor leaks", () => {
  it("save, and load + dispose, leave the tensor count unchanged", async () => {
    const before = tf.memory().numTensors;
    await saveAdapter(path.join(root, "leak"), lora, { baseModelDir: model.dir });
    expect(tf.memory().numTensors).toBe(before);
    disposeLora(loadAdapter(path.join(root, "leak"), model));
    expect(tf.memory().numTensors).toBe(before);
  });
});
