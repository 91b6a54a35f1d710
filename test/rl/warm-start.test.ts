/**
 * The supervised warm start on the embedded tiny model: a full fine-tune lowers the NLL of
 * reference episodes, moves every weight of its copy and none of the base, and `saveModel`
 * writes a checkpoint that reloads to the same logits; the LoRA variant leaves the base alone.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRunConfig } from "../../src/config.ts";
import { saveModel } from "../../src/lora/merge.ts";
import { tokenBatch } from "../../src/model/inputs.ts";
import { forward, lmHead } from "../../src/model/qwen.ts";
import type { Tokenizer } from "../../src/model/tokenizer.ts";
import { disposeModel, loadModel, modelTensors, type QwenModel } from "../../src/model/weights.ts";
import { buildBatch, disposeBatch } from "../../src/rl/batch.ts";
import { sampledLogprobs } from "../../src/rl/logprobs.ts";
import { behaviourDrawer, warmStart, warmTarget, type WarmStartOptions } from "../../src/rl/warm-start.ts";
import { referenceEpisode } from "../../src/rollout/reference.ts";
import { builtinScenarios } from "../../src/scenario/corpus/generate.ts";
import type { Adapters } from "../../src/model/qwen.ts";
import { seededRng } from "../../src/util/rng.ts";
import { loadTinyModel } from "../helpers/tiny-model.ts";
import { expectClose } from "../helpers/expect-close.ts";

const train = builtinScenarios({ seed: 0 }).filter((s) => s.split === "train");
const OPTS: WarmStartOptions = {
  train: "all", steps: 6, batchSize: 4, lr: 1e-2, rank: 4, mix: { execute: 0.6, refuse: 0.2, verify: 0.2 },
  seed: 3, pYes: 0.5, maxTurns: 4, systemPrompt: "Use the tools.", microBatch: 2, chunkRows: 64,
};

let model: QwenModel;
let tokenizer: Tokenizer;
beforeAll(async () => ({ model, tokenizer } = await loadTinyModel()));
afterAll(() => disposeModel(model));

/** Mean NLL of the assistant tokens of a fixed set of reference episodes. */
function heldOutNll(m: QwenModel, adapters?: Adapters): number {
  const episodes = train.slice(0, 4).map((s, i) => referenceEpisode(tokenizer, s, "execute", { rng: seededRng(99, i), pYes: 0.5, maxTurns: 4, systemPrompt: OPTS.systemPrompt }));
  const batch = buildBatch(episodes, episodes.map(() => 0), tokenizer.padTokenId);
  const nll = tf.tidy(() => sampledLogprobs(m, batch.seq, { temperature: 1, chunkRows: 64, adapters }).logprobs.mean().neg().dataSync()[0]);
  disposeBatch(batch);
  return nll;
}

describe("behaviourDrawer", () => {
  it("gives every label × tool set the mix within two draws, whatever the order of the draws", () => {
    const mix = { execute: 0.5, refuse: 0.2, verify: 0.3 };
    const draw = behaviourDrawer(mix, seededRng(5));
    const rng = seededRng(6);
    const counts = new Map<string, Record<string, number>>();
    for (let i = 0; i < 3000; i++) {
      const s = train[Math.floor(rng.next() * 40) * 7]; // 40 scenarios, drawn in random order
      const key = `${s.user} ${s.tools.map((t) => t.name).sort().join(",")}`;
      const c = counts.get(key) ?? { execute: 0, refuse: 0, verify: 0 };
      c[draw(s)] += 1;
      counts.set(key, c);
    }
    expect(counts.size).toBeGreaterThan(5);
    for (const c of counts.values()) {
      const n = c.execute + c.refuse + c.verify;
      for (const b of ["execute", "refuse", "verify"] as const) expect(Math.abs(c[b] - n * mix[b])).toBeLessThanOrEqual(2);
    }
  });
});

describe("warmStart", () => {
  it('"all" lowers the NLL, moves every weight of the copy, leaves the base bit-identical and saves a checkpoint that reloads to the same logits', async () => {
    const base = modelTensors(model.weights).map((t) => t.dataSync().slice());
    const target = warmTarget(model, OPTS);
    const start = target.variables.map((v) => v.dataSync().slice());
    const before = heldOutNll(target.model);
    const losses: number[] = [];
    await warmStart(target, tokenizer, train, OPTS, (_, loss) => void losses.push(loss));
    expect(losses).toHaveLength(OPTS.steps);
    const after = heldOutNll(target.model);
    expect(after).toBeLessThan(before - 1); // from a random model, six steps take off > 1 nat
    target.variables.forEach((v, i) => expect(v.dataSync().some((x, j) => x !== start[i][j]), v.name).toBe(true));
    modelTensors(model.weights).forEach((t, i) => expect(Buffer.compare(Buffer.from(t.dataSync().buffer), Buffer.from(base[i].buffer))).toBe(0));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-warm-"));
    await saveModel(target.model, dir);
    // the saved model keeps the system prompt it was trained with, so `trirl eval` uses it too
    expect(parseRunConfig({ model: dir }, "t").rollout.systemPrompt).toBe(OPTS.systemPrompt);
    const reloaded = loadModel(dir);
    const inputs = tokenBatch([[5, 6, 7, 8, 9]], [[1, 1, 1, 1, 1]]);
    const logits = (m: QwenModel) => tf.tidy(() => Array.from(lmHead(m, forward(m, inputs).hidden).dataSync()));
    expectClose(logits(reloaded), logits(target.model), { atol: 1e-5 });
    tf.dispose(Object.values(inputs));
    disposeModel(reloaded);
    target.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("with sharePrefix (micro-batches of 4 sharing the system prompt) the same losses as without", async () => {
    const opts = { ...OPTS, train: "lora" as const, steps: 2, microBatch: 4 };
    const losses = async (sharePrefix: boolean) => {
      const target = warmTarget(model, opts);
      const out: number[] = [];
      await warmStart(target, tokenizer, train, { ...opts, sharePrefix }, (_, loss) => void out.push(loss));
      target.dispose();
      return out;
    };
    expectClose(await losses(true), await losses(false), { atol: 1e-4 });
  });

  it('"lora" trains only the adapters', async () => {
    const opts = { ...OPTS, train: "lora" as const, steps: 3 };
    const base = modelTensors(model.weights).map((t) => t.dataSync().slice());
    const target = warmTarget(model, opts);
    expect(target.model).toBe(model);
    expect(target.variables.length).toBe(model.weights.layers.length * 7 * 2);
    const before = heldOutNll(model, target.adapters);
    await warmStart(target, tokenizer, train, opts);
    expect(heldOutNll(model, target.adapters)).toBeLessThan(before);
    modelTensors(model.weights).forEach((t, i) => expect(Buffer.compare(Buffer.from(t.dataSync().buffer), Buffer.from(base[i].buffer))).toBe(0));
    target.dispose();
  });
});
