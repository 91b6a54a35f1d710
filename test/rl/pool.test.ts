/**
 * Threads share the work without changing a number: a GRPO step, a warm start and an eval on a
 * 2-thread pool give bit-identical episodes, metrics and weights to the same work on one thread.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRunConfig, type RunConfig } from "../../src/config.ts";
import { createLora, disposeLora } from "../../src/lora/lora.ts";
import { ensureTinyModel } from "../../src/model/tiny-model.ts";
import type { Tokenizer } from "../../src/model/tokenizer.ts";
import type { RewardComponent } from "../../src/reward/reward.ts";
import { disposeModel, type QwenModel } from "../../src/model/weights.ts";
import { createAdam, disposeAdam } from "../../src/rl/adam.ts";
import { splitScenarios } from "../../src/rl/base-model.ts";
import { evaluate } from "../../src/rl/evaluate.ts";
import { balancedRanges, IN_PROCESS, startPool, type Pool } from "../../src/rl/pool.ts";
import { rolloutOptions, trainStep, type StepResult } from "../../src/rl/step.ts";
import { warmStart, warmTarget, type WarmStartOptions } from "../../src/rl/warm-start.ts";
import { loadTinyModel } from "../helpers/tiny-model.ts";

const config = (extra: object = {}): RunConfig => parseRunConfig({
  backend: "wasm", scenariosPerStep: 4, groupSize: 2, rollout: { maxNewTokens: 16, maxTurns: 2, temperature: 1, topK: 0 },
  loss: { microBatch: 2, updatesPerStep: 2, klCoef: 0.05 }, warmStart: { steps: 0 }, ...extra,
  // rewards the episode's text length, so that a random model's groups have reward spread
  reward: { combine: "weighted-sum", genWeight: 0, gates: [], extraWeights: { length: 1 } },
}, "test");
const lengthReward: RewardComponent = { name: "length", score: (ctx) => Math.min(1, ctx.transcript.messages.map((m) => m.content).join("").length / 1000) };

let model: QwenModel;
let tokenizer: Tokenizer;
let pool: Pool;
beforeAll(async () => {
  ({ model, tokenizer } = await loadTinyModel());
  pool = await startPool(2, "wasm");
  await pool.load(ensureTinyModel());
}, 60_000);
afterAll(async () => {
  await pool?.close();
  disposeModel(model);
});

describe("balancedRanges", () => {
  it("cuts contiguous parts near equal shares of the cost, never an empty one", () => {
    expect(balancedRanges([1, 1, 1, 1], 2)).toEqual([[0, 2], [2, 4]]);
    expect(balancedRanges([19, 17, 18, 18], 2)).toEqual([[0, 2], [2, 4]]); // 36 : 36, not 54 : 18
    expect(balancedRanges([5, 1, 1, 1, 1, 1], 2)).toEqual([[0, 1], [1, 6]]);
    expect(balancedRanges([1, 1, 1, 1, 1, 1], 3)).toEqual([[0, 2], [2, 4], [4, 6]]);
    expect(balancedRanges([1], 4)).toEqual([[0, 1]]);
    expect(balancedRanges([1, 9], 2)).toEqual([[0, 1], [1, 2]]);
    expect(balancedRanges([9, 1, 1], 3)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(balancedRanges([], 2)).toEqual([]);
  });
});

/** Two GRPO steps from a fresh LoRA on `p`: each step's result and the final variable values. */
async function twoSteps(cfg: RunConfig, p: Pool): Promise<{ steps: StepResult[]; values: Float32Array[]; tensorGrowth: number }> {
  const lora = createLora(model, cfg.lora, cfg.seed);
  const adam = createAdam(lora.variables);
  const ctx = { policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg, pool: p, scoreOptions: { components: [lengthReward] } };
  const train = splitScenarios(cfg).train;
  const scenarios = [0, 1].map((s) => train.filter((_, i) => i % 97 === s).slice(0, cfg.scenariosPerStep));
  const first = await trainStep(ctx, scenarios[0], 0);
  const live = tf.memory().numTensors;
  const second = await trainStep(ctx, scenarios[1], 1);
  const tensorGrowth = tf.memory().numTensors - live;
  const values = lora.variables.map((v) => v.dataSync() as Float32Array);
  disposeAdam(adam);
  disposeLora(lora);
  return { steps: [first, second], values, tensorGrowth };
}

const comparable = (r: StepResult) => ({
  episodes: r.episodes.map((e) => ({ tokens: [...e.tokens], logprobs: [...e.logprobs], turns: e.record.turns.length })),
  rewards: r.rewards.map((x) => x.total),
  update: r.update,
});

describe("a 2-thread pool", () => {
  it.each([
    ["defaults (token mean, shared prefix, KL)", {}],
    ["dropout, per-sequence mean, no shared prefix", { lora: { dropout: 0.1 }, loss: { microBatch: 3, updatesPerStep: 2, klCoef: 0.05, aggregate: "sequence", sharePrefix: false } }],
  ])("gives bit-identical GRPO steps: %s", async (_, extra) => {
    const cfg = config(extra);
    const one = await twoSteps(cfg, IN_PROCESS);
    const two = await twoSteps(cfg, pool);
    expect(two.steps.map(comparable)).toEqual(one.steps.map(comparable));
    expect(one.steps[1].update.gradNorm).toBeGreaterThan(0); // the comparison is not vacuous
    two.values.forEach((v, k) => expect(Buffer.compare(Buffer.from(v.buffer), Buffer.from(one.values[k].buffer)), `variable ${k}`).toBe(0));
    expect(two.tensorGrowth).toBe(0);
  }, 120_000);

  it.each(["all", "lora"] as const)('gives a bit-identical warm start (train "%s")', async (train) => {
    const opts: WarmStartOptions = {
      train, steps: 2, batchSize: 4, lr: 1e-2, rank: 4, mix: { execute: 0.6, refuse: 0.2, verify: 0.2 },
      seed: 3, pYes: 0.5, maxTurns: 4, systemPrompt: "Use the tools.", microBatch: 1, chunkRows: 64,
    };
    const scenarios = splitScenarios(config()).train;
    const fit = async (p: Pool) => {
      const target = warmTarget(model, opts);
      const losses: number[] = [];
      await warmStart(target, tokenizer, scenarios, { ...opts, pool: p }, (_, loss) => void losses.push(loss));
      const values = target.variables.map((v) => v.dataSync() as Float32Array);
      target.dispose();
      return { losses, values };
    };
    const [one, two] = [await fit(IN_PROCESS), await fit(pool)];
    expect(two.losses).toEqual(one.losses);
    two.values.forEach((v, k) => expect(Buffer.compare(Buffer.from(v.buffer), Buffer.from(one.values[k].buffer)), `variable ${k}`).toBe(0));
  }, 120_000);

  it("gives the same eval report, with and without adapters", async () => {
    const cfg = config();
    const lora = createLora(model, cfg.lora, cfg.seed);
    lora.variables.forEach((v, k) => v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", k)));
    const scenarios = splitScenarios(cfg).evalSet.slice(0, 6);
    const opts = { rollout: rolloutOptions(cfg.rollout, 0), reward: cfg.reward, seed: 0, batchSize: 4, scoreOptions: { components: [lengthReward] } };
    for (const adapters of [undefined, lora.adapters]) {
      const policy = { model, tokenizer, adapters };
      const one = await evaluate(policy, scenarios, opts);
      const two = await evaluate(policy, scenarios, { ...opts, pool, lora });
      expect(two.report).toEqual(one.report);
      expect(two.scored.map((s) => s.reward)).toEqual(one.scored.map((s) => s.reward));
    }
    disposeLora(lora);
  }, 120_000);

  it("names the worker and the cause when a worker fails", async () => {
    const bad = await startPool(2, "wasm");
    await expect(bad.load("/nonexistent/model")).rejects.toThrow(/worker thread 1: .*nonexistent/);
    await bad.close();
  }, 60_000);
});
