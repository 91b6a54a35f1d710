/**
 * createLora and the LoRA term in the forward: B = 0 reproduces the base model bit for bit; with
 * non-zero A and B one linear equals y = x Wᵀ + b + scale · x Aᵀ Bᵀ computed by hand in JS (from the
 * HF weights in the checkpoint file, not our transposed copies); PEFT's init; dropout; gradients;
 * no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLora, disposeLora, withDropout, type LoraConfig } from "../../src/lora/lora.ts";
import { initBackend } from "../../src/model/backend.ts";
import { disposeBatch, tokenBatch } from "../../src/model/inputs.ts";
import { forward, linear, lmHead, type LoraTerm } from "../../src/model/qwen.ts";
import { openCheckpoint } from "../../src/model/safetensors.ts";
import { disposeModel, LINEAR_NAMES, linearShape, loadModel, type Linear, type QwenModel } from "../../src/model/weights.ts";
import { randNormal, seededRng } from "../../src/util/rng.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { FIXTURE_NAMES, fixtureDir, readExpected } from "../helpers/fixtures.ts";
import { logitsOf, randomizeLora } from "./helpers.ts";

const CFG: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: [...LINEAR_NAMES] };

beforeAll(async () => {
  await initBackend("wasm");
});

describe("linear() with a LoRA term, on literal arrays", () => {
  it("equals x Wᵀ + b + scale · (x Aᵀ) Bᵀ worked out by hand", () => {
    // W = [[1, 0, -1], [2, 1, 0]], b = [0.5, -1], A = [[1, 1, 0], [0, 1, -1]], B = [[1, 0], [2, -1]], scale 0.5
    // x = [1, 2, 3]: x Wᵀ + b = [-1.5, 3]; x Aᵀ = [3, -1]; (x Aᵀ) Bᵀ = [3, 7]; y = [-1.5 + 1.5, 3 + 3.5]
    const lin: Linear = { key: "m", weight: { t: tf.tensor2d([[1, 2], [0, 1], [-1, 0]]), layout: "in-out" }, bias: tf.tensor1d([0.5, -1]) };
    const term: LoraTerm = { aT: tf.tensor2d([[1, 0], [1, 1], [0, -1]]), bT: tf.tensor2d([[1, 2], [0, -1]]), scale: 0.5 };
    const x = tf.tensor3d([[[1, 2, 3]]]);
    const y = linear(x, lin, new Map([["m", term]]));
    expect(y.shape).toEqual([1, 1, 2]);
    expect(y.arraySync()).toEqual([[[0, 6.5]]]);
    tf.dispose([lin.weight.t, lin.bias!, term.aT, term.bT, x, y]);
  });
});

describe.each(FIXTURE_NAMES)("%s", (name) => {
  let model: QwenModel;
  const ids = readExpected(name).cases[0].input_ids;
  beforeAll(() => {
    model = loadModel(fixtureDir(name));
  });
  afterAll(() => disposeModel(model));

  it("B = 0 reproduces the base logits exactly", () => {
    const lora = createLora(model, CFG, 1);
    expect(logitsOf(model, ids, lora.adapters)).toEqual(logitsOf(model, ids));
    disposeLora(lora);
  });

  it("random A, B: each linear of layer 0 equals a float64 reference from the checkpoint's HF weights", () => {
    const lora = createLora(model, CFG, 1);
    randomizeLora(lora, 2);
    const ckpt = openCheckpoint(fixtureDir(name));
    const rng = seededRng(3);
    for (const lname of LINEAR_NAMES) {
      const lin = model.weights.layers[0].linears[lname];
      const [out, inp] = linearShape(model.config, lname);
      const rows = 3;
      const xs = Float32Array.from({ length: rows * inp }, () => randNormal(rng));
      const w = ckpt.read(`${lin.key}.weight`); // HF [out, in]
      const b = ckpt.entries.has(`${lin.key}.bias`) ? ckpt.read(`${lin.key}.bias`) : undefined;
      const term = lora.adapters.get(lin.key)!;
      const aT = term.aT.dataSync(); // [in, r]: A[k][i] = aT[i·r + k]
      const bT = term.bT.dataSync(); // [r, out]: B[j][k] = bT[k·out + j]
      const r = CFG.rank;
      const want: number[] = [];
      for (let n = 0; n < rows; n++) {
        const x = xs.subarray(n * inp, (n + 1) * inp);
        const xa = Array.from({ length: r }, (_, k) => x.reduce((s, xi, i) => s + xi * aT[i * r + k], 0));
        for (let j = 0; j < out; j++) {
          let y = b ? b[j] : 0;
          for (let i = 0; i < inp; i++) y += x[i] * w[j * inp + i];
          for (let k = 0; k < r; k++) y += term.scale * xa[k] * bT[k * out + j];
          want.push(y);
        }
      }
      const x = tf.tensor2d(xs, [rows, inp]);
      const got = linear(x, lin, lora.adapters);
      expectClose(got.dataSync(), want, { atol: 1e-5, rtol: 1e-5 });
      tf.dispose([x, got]);
    }
    ckpt.close();
    disposeLora(lora);
  });

  it("dropout only touches the LoRA branch: with B = 0 a training forward still gives the base logits", () => {
    const lora = createLora(model, { ...CFG, dropout: 0.3 }, 1);
    expect(logitsOf(model, ids, withDropout(lora, seededRng(5)))).toEqual(logitsOf(model, ids));
    disposeLora(lora);
  });

  it("non-zero adapters change the logits", () => {
    const lora = createLora(model, CFG, 1);
    randomizeLora(lora, 2);
    const base = logitsOf(model, ids).flat(2);
    const diff = Math.max(...logitsOf(model, ids, lora.adapters).flat(2).map((v, i) => Math.abs(v - base[i])));
    expect(diff).toBeGreaterThan(1e-2);
    disposeLora(lora);
  });
});

describe("createLora", () => {
  let model: QwenModel;
  beforeAll(() => {
    model = loadModel(fixtureDir("qwen3-tiny"));
  });
  afterAll(() => disposeModel(model));

  it("PEFT init: aT [in, r] uniform within ±1/√in, bT [r, out] zero, scale = alpha / rank, stable variable order", () => {
    const lora = createLora(model, CFG, 7);
    expect(lora.variables).toHaveLength(2 * LINEAR_NAMES.length * model.config.numLayers);
    expect([...lora.adapters.keys()].slice(0, 8)).toEqual([
      "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj",
      "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
      "model.layers.0.mlp.down_proj", "model.layers.1.self_attn.q_proj",
    ]);
    let v = 0;
    for (const [key, term] of lora.adapters) {
      expect(lora.variables[v++]).toBe(term.aT);
      expect(lora.variables[v++]).toBe(term.bT);
      expect(term.scale).toBe(2);
      const name = LINEAR_NAMES.find((n) => key.endsWith(n))!;
      const [out, inp] = linearShape(model.config, name);
      expect(term.aT.shape).toEqual([inp, 4]);
      expect(term.bT.shape).toEqual([4, out]);
      expect([...term.bT.dataSync()].every((x) => x === 0)).toBe(true);
      const a = [...term.aT.dataSync()];
      const bound = 1 / Math.sqrt(inp);
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.9 * bound); // fills the range
      expect(Math.abs(a.reduce((s, x) => s + x, 0) / a.length)).toBeLessThan(0.15 * bound);
    }
    disposeLora(lora);
  });

  it("is reproducible from the seed and changes with it", () => {
    const [a, b, c] = [7, 7, 8].map((seed) => createLora(model, CFG, seed));
    expect(a.variables[0].dataSync()).toEqual(b.variables[0].dataSync());
    expect(a.variables[0].dataSync()).not.toEqual(c.variables[0].dataSync());
    [a, b, c].forEach(disposeLora);
  });

  it("adapts only the targets, in LINEAR_NAMES order, whatever order they are given in", () => {
    const lora = createLora(model, { ...CFG, targets: ["v_proj", "q_proj"] }, 1);
    expect([...lora.adapters.keys()]).toEqual([
      "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
      "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
    ]);
    expect(lora.config.targets).toEqual(["q_proj", "v_proj"]);
    disposeLora(lora);
  });

  it.each([
    [{ rank: 0 }, /rank = 0/],
    [{ rank: 2.5 }, /rank = 2.5/],
    [{ alpha: -1 }, /alpha = -1/],
    [{ dropout: 1 }, /dropout = 1/],
    [{ targets: [] }, /targets = \[\]/],
    [{ targets: ["lm_head"] }, /targets = "lm_head"/],
  ])("rejects %o", (patch, message) => {
    expect(() => createLora(model, { ...CFG, ...patch } as LoraConfig, 1)).toThrow(message);
  });

  it("with B = 0 the first gradient reaches every B and no A (A's gradient is weighted by B)", () => {
    const lora = createLora(model, CFG, 1);
    const batch = tokenBatch([[1, 2, 3, 4]], null);
    const { value, grads } = tf.variableGrads(() => {
      const { hidden } = forward(model, { ...batch, adapters: lora.adapters });
      return lmHead(model, hidden).square().mean() as tf.Scalar;
    }, lora.variables);
    const maxAbs = (t: tf.Tensor) => Math.max(...[...t.dataSync()].map(Math.abs));
    lora.variables.forEach((v, i) => {
      if (i % 2 === 0) expect(maxAbs(grads[v.name]), v.name).toBe(0); // aT
      else expect(maxAbs(grads[v.name]), v.name).toBeGreaterThan(0); // bT
    });
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(batch);
    disposeLora(lora);
  });

  it("creates and disposes without leaking tensors", () => {
    const before = tf.memory().numTensors;
    disposeLora(createLora(model, CFG, 1));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("dropout", () => {
  it("drops whole inputs of the LoRA branch with inverted scaling: each row gets 0 or scale · x A B / (1 − p)", () => {
    // in = out = r = 1, W = 0, A = B = 1, x = 1: a kept row gives 1 / (1 − 0.5) = 2, a dropped row 0
    const lin: Linear = { key: "m", weight: { t: tf.tensor2d([[0]]), layout: "in-out" } };
    const term: LoraTerm = { aT: tf.tensor2d([[1]]), bT: tf.tensor2d([[1]]), scale: 1, dropout: { rate: 0.5, seed: 11 } };
    const x = tf.ones([400, 1]);
    const y = [...linear(x, lin, new Map([["m", term]])).dataSync()];
    expect(y.every((v) => v === 0 || v === 2)).toBe(true);
    const dropped = y.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(150);
    expect(dropped).toBeLessThan(250);
    const again = linear(x, lin, new Map([["m", term]]));
    expect([...again.dataSync()]).toEqual(y); // the seed fixes the mask
    tf.dispose([lin.weight.t, term.aT, term.bT, x, again]);
  });
});
