/**
 * A whole training run in a run folder: base model (+ cached warm start), eval before, GRPO
 * steps with metrics / samples / checkpoints, the PEFT adapter, eval after. Resuming re-reads
 * the folder's resolved config and checkpoint and continues exactly where it stopped.
 * Reports progress through `report`; it never writes to the console itself.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../config.ts";
import { createLora, disposeLora } from "../lora/lora.ts";
import { saveAdapter } from "../lora/peft.ts";
import { initBackend } from "../model/backend.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { disposeModel, loadModel } from "../model/weights.ts";
import type { ScoreOptions } from "../reward/reward.ts";
import type { Policy } from "../rollout/rollout.ts";
import { LABELS, type Scenario } from "../scenario/schema.ts";
import { randInt, seededRng } from "../util/rng.ts";
import { createAdam, disposeAdam, learningRate } from "./adam.ts";
import { prepareBaseModel, splitScenarios } from "./base-model.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { evaluate, stratified, type EvalReport } from "./evaluate.ts";
import { sampleRecords, stepMetrics, type StepMetrics } from "./metrics.ts";
import { rolloutOptions, trainStep, type TrainContext } from "./step.ts";

export type RunEvent =
  | { kind: "info"; message: string }
  | { kind: "progress"; phase: string; done: number; total: number; detail?: string }
  | { kind: "step"; metrics: StepMetrics; steps: number };

export type RunResult = { before: EvalReport; after: EvalReport; outDir: string };

/**
 * `scenariosPerStep` distinct train scenarios for `step`, drawn from (seed, step) alone. With
 * `balanceLabels` the draws cycle through the user labels present (benign, malicious, sensitive),
 * so a rare label is not starved of steps; otherwise they are uniform over the split.
 */
export function scenariosForStep(train: readonly Scenario[], cfg: Pick<RunConfig, "seed" | "scenariosPerStep" | "balanceLabels">, step: number): Scenario[] {
  const rng = seededRng(cfg.seed, step, 0x5ce);
  const pools = cfg.balanceLabels
    ? LABELS.map((l) => train.filter((s) => s.user === l)).filter((p) => p.length > 0)
    : [[...train]];
  const picked: Scenario[] = [];
  for (let i = 0; picked.length < Math.min(cfg.scenariosPerStep, train.length); i++) {
    const pool = pools[(i + step) % pools.length].filter((s) => !picked.includes(s));
    if (pool.length > 0) picked.push(pool[randInt(rng, pool.length)]);
  }
  return picked;
}

const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** Keeps the metrics lines of steps before `nextStep` (a resumed run rewrites the rest). */
function truncateMetrics(file: string, nextStep: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && JSON.parse(l).step < nextStep);
  fs.writeFileSync(file, kept.map((l) => `${l}\n`).join(""));
}

async function runEval(policy: Policy, scenarios: readonly Scenario[], cfg: RunConfig, label: string, run: RunOptions): Promise<EvalReport> {
  const opts = { rollout: rolloutOptions(cfg.rollout, cfg.eval.temperature), reward: cfg.reward, seed: cfg.seed, batchSize: 32, scoreOptions: run.scoreOptions };
  const { report: out } = await evaluate(policy, scenarios, opts, (done, total) => run.report({ kind: "progress", phase: `eval ${label}`, done, total }));
  return out;
}

export type RunOptions = { isResume: boolean; report: (e: RunEvent) => void; scoreOptions?: ScoreOptions };

export async function trainRun(cfg: RunConfig, outDir: string, opts: RunOptions): Promise<RunResult> {
  const { report } = opts;
  report({ kind: "info", message: `backend ${await initBackend(cfg.backend)}` });
  fs.mkdirSync(path.join(outDir, "samples"), { recursive: true });
  if (!opts.isResume) writeJson(path.join(outDir, "config.json"), cfg);
  const { train, evalSet } = splitScenarios(cfg);
  const baseDir = await prepareBaseModel(cfg, train, report);
  const model = loadModel(baseDir);
  const tokenizer = await loadTokenizer(baseDir);
  const evalScenarios = stratified(evalSet, cfg.eval.maxScenarios);
  const beforePath = path.join(outDir, "eval_before.json");
  const before = opts.isResume && fs.existsSync(beforePath)
    ? (JSON.parse(fs.readFileSync(beforePath, "utf8")) as EvalReport)
    : await runEval({ model, tokenizer }, evalScenarios, cfg, "before", opts);
  writeJson(beforePath, before);

  const lora = createLora(model, cfg.lora, cfg.seed);
  const adam = createAdam(lora.variables);
  const ctx: TrainContext = { policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg, scoreOptions: opts.scoreOptions };
  const checkpointDir = path.join(outDir, "checkpoint");
  const metricsPath = path.join(outDir, "metrics.jsonl");
  let start = 0;
  if (opts.isResume && fs.existsSync(checkpointDir)) start = loadCheckpoint(checkpointDir, model, { lora, adam }).nextStep;
  truncateMetrics(metricsPath, start);
  report({ kind: "info", message: `model ${baseDir}: ${cfg.lora.targets.length} LoRA targets, ${lora.variables.reduce((a, v) => a + v.size, 0)} trainable parameters; steps ${start}..${cfg.steps - 1}` });
  try {
    for (let step = start; step < cfg.steps; step++) {
      const scenarios = scenariosForStep(train, cfg, step);
      const lr = learningRate(cfg.optim, adam.step);
      const result = await trainStep(ctx, scenarios, step);
      const metrics = stepMetrics(step, scenarios, result, { lr, liveTensors: tf.memory().numTensors, groupSize: cfg.groupSize });
      fs.appendFileSync(metricsPath, `${JSON.stringify(metrics)}\n`);
      if (cfg.sampleEvery > 0 && (step + 1) % cfg.sampleEvery === 0) {
        const lines = sampleRecords(step, scenarios, result, cfg.groupSize).map((r) => JSON.stringify(r));
        fs.writeFileSync(path.join(outDir, "samples", `step-${String(step).padStart(5, "0")}.jsonl`), `${lines.join("\n")}\n`);
      }
      if ((cfg.checkpointEvery > 0 && (step + 1) % cfg.checkpointEvery === 0) || step === cfg.steps - 1)
        saveCheckpoint(checkpointDir, lora, adam, { nextStep: step + 1, adamStep: adam.step }, baseDir);
      report({ kind: "step", metrics, steps: cfg.steps });
    }
    saveAdapter(path.join(outDir, "adapter"), lora, { baseModelDir: baseDir });
    const after = await runEval(ctx.policy, evalScenarios, cfg, "after", opts);
    writeJson(path.join(outDir, "eval_after.json"), after);
    return { before, after, outDir };
  } finally {
    disposeAdam(adam);
    disposeLora(lora);
    disposeModel(model);
  }
}
