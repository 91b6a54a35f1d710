/**
 * mergeAdapter: the merged checkpoint, loaded with `loadModel`, gives the logits of base +
 * adapters; each merged weight equals W + scale · B A computed in float64 from the base file and the
 * PEFT file; every other tensor is copied bit for bit; config and tokenizer files are copied.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLora, disposeLora, type Lora } from "../../src/lora/lora.ts";
import { mergeAdapter } from "../../src/lora/merge.ts";
import { saveAdapter } from "../../src/lora/peft.ts";
import { initBackend } from "../../src/model/backend.ts";
import { openSafetensors } from "../../src/model/safetensors.ts";
import type { Layout } from "../../src/model/matmul.ts";
import { disposeModel, LINEAR_NAMES, loadModel, type QwenModel } from "../../src/model/weights.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { FIXTURE_NAMES, fixtureDir, readExpected } from "../helpers/fixtures.ts";
import { logitsOf, randomizeLora, tempDir } from "./helpers.ts";

let root: string;
beforeAll(async () => {
  await initBackend("wasm");
  root = tempDir("merge");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const LAYOUTS: Layout[] = ["in-out", "out-in"];

describe.each(FIXTURE_NAMES.flatMap((name) => LAYOUTS.map((layout) => [name, layout] as const)))("%s, weights stored %s", (name, layout) => {
  let model: QwenModel;
  let lora: Lora;
  let baseDir: string;
  let outDir: string;
  beforeAll(async () => {
    // a base folder with the optional files a real checkpoint has
    baseDir = path.join(root, `${name}-${layout}-base`);
    fs.cpSync(fixtureDir(name), baseDir, { recursive: true });
    fs.writeFileSync(path.join(baseDir, "generation_config.json"), '{"eos_token_id": [1, 2]}\n');
    fs.writeFileSync(path.join(baseDir, "tokenizer_config.json"), '{"model_max_length": 4096}\n');
    model = loadModel(baseDir, { layout });
    lora = createLora(model, { rank: 4, alpha: 8, dropout: 0.1, targets: ["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"] }, 1);
    randomizeLora(lora, 2);
    outDir = path.join(root, `${name}-${layout}-merged`);
    await mergeAdapter(model, lora, outDir);
  });
  afterAll(() => {
    disposeLora(lora);
    disposeModel(model);
  });

  it("the merged checkpoint's logits equal base + adapter logits within 1e-4", () => {
    const merged = loadModel(outDir);
    const ids = readExpected(name).cases[0].input_ids;
    const withAdapter = logitsOf(model, ids, lora.adapters);
    expectClose(logitsOf(merged, ids), withAdapter, { atol: 1e-4 });
    disposeModel(merged);
  });

  it("each adapted weight equals W + scale · B A from the base file and the saved PEFT file (float64)", async () => {
    const adapterDir = path.join(root, `${name}-adapter`);
    await saveAdapter(adapterDir, lora, { baseModelDir: baseDir });
    const [base, peft, merged] = [
      path.join(baseDir, "model.safetensors"),
      path.join(adapterDir, "adapter_model.safetensors"),
      path.join(outDir, "model.safetensors"),
    ].map(openSafetensors);
    for (const lname of ["q_proj", "down_proj"]) {
      const key = `model.layers.1.${lname === "q_proj" ? "self_attn" : "mlp"}.${lname}`;
      const [out, inp] = base.entries.get(`${key}.weight`)!.shape;
      const w = base.read(`${key}.weight`); // [out, in]
      const a = peft.read(`base_model.model.${key}.lora_A.weight`); // [r, in]
      const b = peft.read(`base_model.model.${key}.lora_B.weight`); // [out, r]
      const want = Array.from(w, (wji, n) => {
        const [j, i] = [Math.floor(n / inp), n % inp];
        let delta = 0;
        for (let k = 0; k < 4; k++) delta += b[j * 4 + k] * a[k * inp + i];
        return wji + 2 * delta; // scale = alpha / r = 8 / 4
      });
      expect(merged.entries.get(`${key}.weight`)!.shape).toEqual([out, inp]);
      expectClose(merged.read(`${key}.weight`), want, { atol: 1e-6 });
    }
    [base, peft, merged].forEach((f) => f.close());
  });

  it("has the base checkpoint's keys and shapes, and copies untargeted tensors bit for bit", () => {
    const base = openSafetensors(path.join(baseDir, "model.safetensors"));
    const merged = openSafetensors(path.join(outDir, "model.safetensors"));
    expect([...merged.entries.keys()].sort()).toEqual([...base.entries.keys()].sort());
    const adapted = new Set(lora.adapters.keys());
    for (const [key, entry] of base.entries) {
      expect(merged.entries.get(key)!.shape, key).toEqual(entry.shape);
      if (!adapted.has(key.replace(/\.weight$/, ""))) expect(merged.read(key), key).toEqual(base.read(key));
    }
    expect(LINEAR_NAMES.filter((n) => !lora.config.targets.includes(n))).toEqual(["k_proj", "gate_proj"]);
    [base, merged].forEach((f) => f.close());
  });

  it("copies config.json, generation_config.json and tokenizer files verbatim", () => {
    for (const file of ["config.json", "generation_config.json", "tokenizer_config.json"])
      expect(fs.readFileSync(path.join(outDir, file), "utf8"), file).toBe(fs.readFileSync(path.join(baseDir, file), "utf8"));
    expect(fs.existsSync(path.join(outDir, "expected.json"))).toBe(false);
  });

  it("refuses to overwrite the base checkpoint", async () => {
    await expect(mergeAdapter(model, lora, baseDir)).rejects.toThrow(/base model's folder/);
  });

  it("leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    await mergeAdapter(model, lora, path.join(root, `${name}-leak`));
    expect(tf.memory().numTensors).toBe(before);
  });
});
