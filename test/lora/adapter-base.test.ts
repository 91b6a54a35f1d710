/**
 * An adapter knows its base: saveAdapter records the base folder and its weights' fingerprint, and
 * checkAdapterBase refuses a model with other weights of the same shapes (the tiny model and its
 * warm start), accepts a copy of the base elsewhere, and falls back to PEFT's
 * base_model_name_or_path for adapters written by PEFT.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapterBaseDir, checkAdapterBase } from "../../src/lora/adapter-base.ts";
import { createLora, disposeLora, type Lora } from "../../src/lora/lora.ts";
import { ADAPTER_CONFIG_FILE, BASE_RECORD_FILE, saveAdapter } from "../../src/lora/peft.ts";
import { initBackend } from "../../src/model/backend.ts";
import { modelFingerprint } from "../../src/model/fingerprint.ts";
import { disposeModel, loadModel, type QwenModel } from "../../src/model/weights.ts";
import { fixtureDir } from "../helpers/fixtures.ts";
import { tempDir } from "./helpers.ts";

let model: QwenModel;
let lora: Lora;
let root: string;
let base: string;
let adapter: string;

/** A copy of the fixture checkpoint; `flip` changes one byte of the last weight's data. */
function copyOf(name: string, flip = false): string {
  const dir = path.join(root, name);
  fs.cpSync(fixtureDir("qwen3-tiny"), dir, { recursive: true });
  if (flip) {
    const file = path.join(dir, "model.safetensors");
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2] ^= 0x01;
    fs.writeFileSync(file, bytes);
  }
  return dir;
}

beforeAll(async () => {
  await initBackend("wasm");
  root = tempDir("adapter-base");
  base = copyOf("base");
  model = loadModel(base);
  lora = createLora(model, { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj"] }, 1);
  adapter = path.join(root, "adapter");
  await saveAdapter(adapter, lora, { baseModelDir: base });
});
afterAll(() => {
  disposeLora(lora);
  disposeModel(model);
  fs.rmSync(root, { recursive: true, force: true });
});

describe("adapter base", () => {
  it("saveAdapter records the base's absolute path and fingerprint", () => {
    const record = JSON.parse(fs.readFileSync(path.join(adapter, BASE_RECORD_FILE), "utf8"));
    expect(record).toEqual({ path: path.resolve(base), fingerprint: modelFingerprint(base) });
    expect(adapterBaseDir(adapter)).toBe(path.resolve(base));
  });

  it("accepts the base and a byte-identical copy of it elsewhere", () => {
    expect(() => checkAdapterBase(adapter, base)).not.toThrow();
    expect(() => checkAdapterBase(adapter, copyOf("moved"))).not.toThrow();
  });

  it("refuses a model of the same shapes with other weights, naming both and the way out", () => {
    const other = copyOf("other", true);
    expect(modelFingerprint(other)).not.toBe(modelFingerprint(base));
    expect(() => checkAdapterBase(adapter, other)).toThrow(
      `${adapter}: the adapter was trained on ${path.resolve(base)}, and ${other} holds other weights (${BASE_RECORD_FILE} records the base's fingerprint)\n---> HINT: omit --model to use the adapter's own base, or pass --force to apply it anyway`);
  });

  it("without trirl's record, compares the folder name with PEFT's base_model_name_or_path (a hub id's last part)", async () => {
    const peftOnly = path.join(root, "peft-only");
    await saveAdapter(peftOnly, lora, { baseModelDir: "Qwen/Qwen3-Tiny" }); // a hub id: nothing to fingerprint
    expect(fs.existsSync(path.join(peftOnly, BASE_RECORD_FILE))).toBe(false);
    expect(() => checkAdapterBase(peftOnly, path.join(root, "qwen3-tiny"))).not.toThrow();
    expect(() => checkAdapterBase(peftOnly, base)).toThrow(`${peftOnly}: adapter_config.json names its base "Qwen/Qwen3-Tiny", not ${base}`);
    expect(() => adapterBaseDir(peftOnly)).toThrow(`${peftOnly}: its base model Qwen/Qwen3-Tiny is not a local checkpoint folder`);
  });

  it("an adapter that names no base passes the check and asks for --model", () => {
    const anonymous = path.join(root, "anonymous");
    fs.cpSync(adapter, anonymous, { recursive: true });
    fs.rmSync(path.join(anonymous, BASE_RECORD_FILE));
    const cfgFile = path.join(anonymous, ADAPTER_CONFIG_FILE);
    const { base_model_name_or_path: _b, ...rest } = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
    fs.writeFileSync(cfgFile, JSON.stringify(rest));
    expect(() => checkAdapterBase(anonymous, base)).not.toThrow();
    expect(() => adapterBaseDir(anonymous)).toThrow("the adapter does not name its base model\n---> HINT: pass --model DIR");
  });
});

describe("modelFingerprint of a large checkpoint (sampled blocks)", () => {
  it("is equal for equal files and differs when the values differ throughout", () => {
    const big = (name: string, fill: number) => {
      const dir = path.join(root, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "config.json"), "{}");
      const header = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [17 << 20], data_offsets: [0, 68 << 20] } }));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      fs.writeFileSync(path.join(dir, "model.safetensors"), Buffer.concat([len, header, Buffer.alloc(68 << 20, fill)]));
      return dir;
    };
    const [a, b, c] = [big("big-a", 1), big("big-b", 1), big("big-c", 2)];
    expect(modelFingerprint(a)).toBe(modelFingerprint(b));
    expect(modelFingerprint(a)).not.toBe(modelFingerprint(c));
  });
});
