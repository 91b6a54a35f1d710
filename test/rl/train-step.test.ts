/**
 * End-to-end GRPO steps on the embedded tiny model: the right weights move, frozen ones do not,
 * nothing leaks, the same seed gives the same episodes, and a resumed run reproduces the metrics
 * of an uninterrupted one.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRunConfig, type RunConfig } from "../../src/config.ts";
import { createLora, disposeLora } from "../../src/lora/lora.ts";
import type { Tokenizer } from "../../src/model/tokenizer.ts";
import { ensureTinyModel } from "../../src/model/tiny-model.ts";
import { disposeModel, modelTensors, type QwenModel } from "../../src/model/weights.ts";
import type { RewardComponent } from "../../src/reward/reward.ts";
import { createAdam, disposeAdam } from "../../src/rl/adam.ts";
import { splitScenarios } from "../../src/rl/base-model.ts";
import { scenariosForStep, trainRun } from "../../src/rl/run.ts";
import type { EvalReport } from "../../src/rl/evaluate.ts";
import { bestStep, keepsBenign, selectionScore } from "../../src/rl/select.ts";
import { trainStep, type TrainContext } from "../../src/rl/step.ts";

import { loadTinyModel } from "../helpers/tiny-model.ts";

const TINY = { backend: "wasm", steps: 3, scenariosPerStep: 2, groupSize: 2, rollout: { maxNewTokens: 12, maxTurns: 2, temperature: 1, topK: 0 }, warmStart: { steps: 0 }, eval: { maxScenarios: 2 }, select: { every: 1, maxScenarios: 3 }, loss: { microBatch: 2 }, checkpointEvery: 1, sampleEvery: 0 };
const config = (extra: object = {}): RunConfig => parseRunConfig({ ...TINY, ...extra }, "test");

// rewards the episode's text length, so rewards differ inside a group even for a random model
const lengthReward: RewardComponent = { name: "length", score: (ctx) => Math.min(1, ctx.transcript.messages.map((m) => m.content).join("").length / 1000) };
const withLength = (cfg: RunConfig): RunConfig => ({ ...cfg, reward: { ...cfg.reward, combine: "weighted-sum", genWeight: 0, gates: [], extraWeights: { length: 1 } } });

let model: QwenModel;
let tokenizer: Tokenizer;
beforeAll(async () => ({ model, tokenizer } = await loadTinyModel()));
afterAll(() => disposeModel(model));

describe("trainStep", () => {
  it.each([false, true])("two steps change every LoRA variable, keep every base weight bit-identical and leak no tensors (sharePrefix %s)", async (sharePrefix) => {
    const cfg = withLength(config({ loss: { microBatch: 2, sharePrefix } }));
    const lora = createLora(model, cfg.lora, cfg.seed);
    const adam = createAdam(lora.variables);
    const ctx: TrainContext = { policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg, scoreOptions: { components: [lengthReward] } };
    const base = modelTensors(model.weights).map((t) => t.dataSync().slice());
    const initial = lora.variables.map((v) => v.dataSync().slice());
    const scenarios = splitScenarios(cfg).train.slice(0, 2);
    const first = await trainStep(ctx, scenarios, 0);
    expect(first.advantages.some((a) => a !== 0)).toBe(true); // the check below is not vacuous
    const tensorsAfterFirst = tf.memory().numTensors;
    await trainStep(ctx, scenarios, 1);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    // B starts at 0, so A only moves from the second update on
    lora.variables.forEach((v, i) => expect(v.dataSync().some((x, j) => x !== initial[i][j]), v.name).toBe(true));
    modelTensors(model.weights).forEach((t, i) => expect(Buffer.compare(Buffer.from(t.dataSync().buffer), Buffer.from(base[i].buffer))).toBe(0));
    disposeAdam(adam);
    disposeLora(lora);
  });

  it("the same seed gives the same episodes", async () => {
    const cfg = config();
    const run = async () => {
      const lora = createLora(model, cfg.lora, cfg.seed);
      const adam = createAdam(lora.variables);
      const r = await trainStep({ policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg }, splitScenarios(cfg).train.slice(0, 2), 0);
      disposeAdam(adam);
      disposeLora(lora);
      return r.episodes.map((e) => [...e.tokens]);
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(new Set(a.map((t) => t.join())).size).toBeGreaterThan(1); // episodes differ from each other
  });
});

describe("resume", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  // everything but wall time, live_tensors included
  const strip = (file: string) =>
    fs.readFileSync(file, "utf8").trim().split("\n").map((l) => {
      const { seconds: _s, ...rest } = JSON.parse(l);
      return rest;
    });

  it("a run stopped after 2 steps and resumed to 3 writes the same metrics as an uninterrupted run, tensor counts included", async () => {
    const [whole, split, models] = [0, 1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), "trirl-resume-")));
    dirs.push(whole, split, models);
    // a model folder of its own: the uninterrupted run makes the warm start in this process, the others reuse it
    const base = path.join(models, "tiny");
    fs.cpSync(ensureTinyModel(), base, { recursive: true });
    const cfg = (steps: number) => withLength(config({ steps, model: base, warmStart: { steps: 2, batchSize: 2 } }));
    const opts = { report: () => {}, scoreOptions: { components: [lengthReward] } };
    const tensorsBefore = tf.memory().numTensors;
    await trainRun(cfg(3), whole, { ...opts, isResume: false });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // a run leaves nothing behind, warm start included
    await trainRun(cfg(2), split, { ...opts, isResume: false });
    expect(strip(path.join(split, "metrics.jsonl"))).toHaveLength(2);
    await trainRun(cfg(3), split, { ...opts, isResume: true });
    expect(strip(path.join(whole, "metrics.jsonl")).every((m) => m.grad_norm > 0)).toBe(true); // real updates happened
    expect(strip(path.join(split, "metrics.jsonl"))).toEqual(strip(path.join(whole, "metrics.jsonl")));
    const weights = (run: string, ...dir: string[]) => fs.readFileSync(path.join(run, ...dir, "adapter_model.safetensors"));
    expect(weights(split, "checkpoint", "adapter")).toEqual(weights(whole, "checkpoint", "adapter")); // the last step's state
    expect(weights(split, "adapter")).toEqual(weights(whole, "adapter")); // the selected one
    expect(fs.readFileSync(path.join(split, "validation.jsonl"), "utf8")).toEqual(fs.readFileSync(path.join(whole, "validation.jsonl"), "utf8"));
  });

  it("validates before the first step and after each, and returns the adapter of the best-scoring step", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-select-"));
    dirs.push(dir);
    const result = await trainRun(withLength(config()), dir, { report: () => {}, scoreOptions: { components: [lengthReward] }, isResume: false });
    const lines = fs.readFileSync(path.join(dir, "validation.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; score: number });
    expect(lines.map((l) => l.step)).toEqual([0, 1, 2, 3]);
    const bestScore = Math.max(...lines.map((l) => l.score));
    const firstBest = lines.find((l) => l.score === bestScore)!; // ties keep the earlier step
    expect(result.selected?.step).toBe(firstBest.step);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "best", "selection.json"), "utf8")).step).toBe(firstBest.step);
    const weights = (...p: string[]) => fs.readFileSync(path.join(dir, ...p, "adapter_model.safetensors"));
    expect(weights("adapter")).toEqual(weights("best", "adapter"));
    if (firstBest.step !== 3) expect(weights("adapter")).not.toEqual(weights("checkpoint", "adapter"));
    // each eval's episodes, one line per scenario, agree with its summary
    for (const when of ["before", "after"]) {
      const report = JSON.parse(fs.readFileSync(path.join(dir, `eval_${when}.json`), "utf8")) as EvalReport;
      const episodes = fs.readFileSync(path.join(dir, `eval_${when}_episodes.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { total: number; messages: unknown[] });
      expect(episodes).toHaveLength(report.scenarios);
      expect(episodes.reduce((a, e) => a + e.total, 0) / episodes.length).toBeCloseTo(report.mean_reward, 9);
      for (const e of episodes) expect(e.messages.length).toBeGreaterThan(0);
    }
  });

  it("with select.every 0 there is no validation and the adapter is the last step's", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-noselect-"));
    dirs.push(dir);
    const result = await trainRun(withLength(config({ steps: 2, select: { every: 0 } })), dir, { report: () => {}, scoreOptions: { components: [lengthReward] }, isResume: false });
    expect(result.selected).toBeUndefined();
    expect(fs.existsSync(path.join(dir, "validation.jsonl"))).toBe(false);
    const weights = (...p: string[]) => fs.readFileSync(path.join(dir, ...p, "adapter_model.safetensors"));
    expect(weights("adapter")).toEqual(weights("checkpoint", "adapter"));
  });

  it("trirl train killed (SIGKILL) after its first checkpoint resumes to the same metrics", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-kill-"));
    dirs.push(dir);
    const cfgFile = path.join(dir, "cfg.json");
    fs.writeFileSync(cfgFile, JSON.stringify({ ...TINY, steps: 4 }));
    const bin = path.join(import.meta.dirname, "..", "..", "bin", "trirl.js");
    const out = path.join(dir, "run");
    const child = spawn("node", [bin, "train", "--config", cfgFile, "--out", out], { stdio: "ignore" });
    const state = path.join(out, "checkpoint", "state.json");
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (fs.existsSync(state)) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      }, 20);
      child.on("exit", () => (clearInterval(timer), fs.existsSync(state) ? resolve() : reject(new Error("train exited before a checkpoint"))));
    });
    const resumed = spawnSync("node", [bin, "train", "--resume", out], { encoding: "utf8" });
    expect(resumed.status, resumed.stderr).toBe(0);
    const whole = path.join(dir, "whole");
    expect(spawnSync("node", [bin, "train", "--config", cfgFile, "--out", whole], { encoding: "utf8" }).status).toBe(0);
    expect(strip(path.join(out, "metrics.jsonl"))).toEqual(strip(path.join(whole, "metrics.jsonl")));
    for (const file of ["validation.jsonl", "adapter/adapter_model.safetensors", "best/selection.json"])
      expect(fs.readFileSync(path.join(out, file)), file).toEqual(fs.readFileSync(path.join(whole, file)));
  }, 300_000); // three training processes: beside a webgpu test file on 2 cores they outlast 2 minutes
});

describe("selectionScore", () => {
  it("is the mean decision accuracy over the labels with scenarios", () => {
    const report = { decision_accuracy: { benign: 0.9, malicious: 0.3, sensitive: null } } as unknown as EvalReport;
    expect(selectionScore(report)).toBeCloseTo(0.6, 12);
    expect(selectionScore({ decision_accuracy: { benign: 1, malicious: 0.5, sensitive: 0 } } as unknown as EvalReport)).toBeCloseTo(0.5, 12);
  });
});

describe("benign guard of the selection", () => {
  const report = (benign: number, malicious: number, tcBenign: number, overRefusal: number) => ({
    decision_accuracy: { benign, malicious, sensitive: 0 }, task_completion_by_label: { benign: tcBenign, malicious: null, sensitive: 0 }, over_refusal: overRefusal,
  }) as unknown as EvalReport;
  it("keepsBenign compares benign decision, benign task completion and over-refusal with the start", () => {
    const start = report(0.8, 0.2, 0.5, 0.1);
    expect(keepsBenign(report(0.75, 0.9, 0.45, 0.15), start, 0.05)).toBe(true);
    expect(keepsBenign(report(0.7, 0.9, 0.5, 0.1), start, 0.05)).toBe(false);  // benign decision −10
    expect(keepsBenign(report(0.8, 0.9, 0.4, 0.1), start, 0.05)).toBe(false);  // benign task −10
    expect(keepsBenign(report(0.8, 0.9, 0.5, 0.2), start, 0.05)).toBe(false);  // over-refusal +10
  });
  it("bestStep skips a higher-scoring step that gives up benign work, and logs why", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-guard-"));
    const lora = createLora(model, config().lora, 0);
    try {
      const best = bestStep(out, lora, ensureTinyModel(), false, 0.05);
      await best.record(0, report(0.8, 0.2, 0.5, 0.1));
      expect((await best.record(5, report(0.3, 1, 0.2, 0.6))).best.step).toBe(0); // balanced 0.43 > 0.33, not eligible
      expect((await best.record(10, report(0.8, 0.5, 0.5, 0.1))).best.step).toBe(10);
      const lines = fs.readFileSync(path.join(out, "validation.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.eligible)).toEqual([true, false, true]);
      const resumed = bestStep(out, lora, ensureTinyModel(), true, 0.05); // the start comes back from the log
      expect((await resumed.record(15, report(0.5, 1, 0.5, 0.1))).best.step).toBe(10);
    } finally {
      disposeLora(lora);
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("scenariosForStep", () => {
  const train = splitScenarios(config()).train;
  const labels = (cfg: RunConfig, step: number) => scenariosForStep(train, cfg, step).map((s) => s.user).sort();
  it("with equal label weights cycles benign → malicious → sensitive, starting one further each step", () => {
    const cfg = config({ scenariosPerStep: 4 });
    expect(labels(cfg, 0)).toEqual(["benign", "benign", "malicious", "sensitive"]);
    expect(labels(cfg, 1)).toEqual(["benign", "malicious", "malicious", "sensitive"]);
    expect(labels(cfg, 2)).toEqual(["benign", "malicious", "sensitive", "sensitive"]);
  });

  it("labelWeights 1/2/1 with 4 scenarios gives every step one benign, two malicious, one sensitive; weight 0 drops a label", () => {
    const cfg = config({ scenariosPerStep: 4, labelWeights: { malicious: 2 } });
    for (let step = 0; step < 6; step++) expect(labels(cfg, step)).toEqual(["benign", "malicious", "malicious", "sensitive"]);
    const picked = scenariosForStep(train, config({ scenariosPerStep: 4, labelWeights: { sensitive: 0 } }), 0);
    expect(picked.every((s) => s.user !== "sensitive")).toBe(true);
    expect(new Set(picked).size).toBe(4); // distinct scenarios
  });
});
