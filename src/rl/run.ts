/**
 * A whole training run in a run folder: base model (+ cached warm start), eval before, GRPO
 * steps with metrics / samples / checkpoints and validation evals (select.ts), the PEFT adapter
 * of the selected step, eval after. Resuming re-reads the folder's resolved config and
 * checkpoint and continues exactly where it stopped.
 * Reports progress through `report`; it never writes to the console itself.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../config.ts";
import { createLora, disposeLora, type Lora } from "../lora/lora.ts";
import { loadAdapter, saveAdapter } from "../lora/peft.ts";
import { chooseBackend, initBackend, type BackendName } from "../model/backend.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { disposeModel, loadModel } from "../model/weights.ts";
import type { ScoreOptions } from "../reward/reward.ts";
import type { Policy } from "../rollout/rollout.ts";
import { LABELS, type Scenario } from "../scenario/schema.ts";
import { randInt, seededRng } from "../util/rng.ts";
import { createAdam, disposeAdam, learningRate } from "./adam.ts";
import { checkModelFolder, prepareBaseModel, splitScenarios } from "./base-model.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { episodesJsonl, evaluate, stratified, type EvalReport, type Scored } from "./evaluate.ts";
import { sampleRecords, stepMetrics, type StepMetrics } from "./metrics.ts";
import { IN_PROCESS, startPool, type Pool } from "./pool.ts";
import { claimRunFolder, type ClaimOptions } from "./run-folder.ts";
import { bestStep, VALIDATION_LOG, type BestStep, type Selection } from "./select.ts";
import { rolloutOptions, trainStep, type TrainContext } from "./step.ts";

export type RunEvent =
  | { kind: "info"; message: string }
  | { kind: "progress"; phase: string; done: number; total: number; detail?: string }
  | { kind: "step"; metrics: StepMetrics; steps: number };

/** `selected`: the step whose adapter the run returns (select.ts); the last step when selection is off. */
export type RunResult = { before: EvalReport; after: EvalReport; outDir: string; selected: Selection | undefined };

/**
 * `scenariosPerStep` distinct train scenarios for `step`, drawn from (seed, step) alone. With
 * `balanceLabels` the draws cycle through the user labels present (benign, malicious, sensitive;
 * each `labelWeights[label]` times per cycle), so a rare label is not starved of steps;
 * otherwise they are uniform over the split.
 */
export function scenariosForStep(train: readonly Scenario[], cfg: Pick<RunConfig, "seed" | "scenariosPerStep" | "balanceLabels" | "labelWeights">, step: number): Scenario[] {
  const rng = seededRng(cfg.seed, step, 0x5ce);
  const pools = cfg.balanceLabels
    ? LABELS.flatMap((l) => Array.from({ length: cfg.labelWeights[l] }, () => train.filter((s) => s.user === l))).filter((p) => p.length > 0)
    : [[...train]];
  if (pools.length === 0) throw new Error("labelWeights: every label with training scenarios has weight 0");
  const picked: Scenario[] = [];
  const count = Math.min(cfg.scenariosPerStep, new Set(pools.flat()).size);
  for (let i = 0; picked.length < count; i++) {
    const pool = pools[(i + step) % pools.length].filter((s) => !picked.includes(s));
    if (pool.length > 0) picked.push(pool[randInt(rng, pool.length)]);
  }
  return picked;
}

const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** Keeps the lines of a JSONL log whose `step` is below `end` (a resumed run rewrites the rest). */
function truncateLog(file: string, end: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && JSON.parse(l).step < end);
  fs.writeFileSync(file, kept.map((l) => `${l}\n`).join(""));
}

type Sampler = { policy: Policy; lora?: Lora; pool: Pool };

async function runEval({ policy, lora, pool }: Sampler, scenarios: readonly Scenario[], cfg: RunConfig, label: string, run: RunOptions): Promise<{ report: EvalReport; scored: Scored[] }> {
  const opts = { rollout: rolloutOptions(cfg.rollout, cfg.eval.temperature), reward: cfg.reward, seed: cfg.seed, batchSize: 32, scoreOptions: run.scoreOptions, pool, lora };
  return evaluate(policy, scenarios, opts, (done, total) => run.report({ kind: "progress", phase: `eval ${label}`, done, total }));
}

/** `eval_<when>.json` (the report) and `eval_<when>_episodes.jsonl` (each episode, `trirl score`'s format). */
function writeEval(outDir: string, when: "before" | "after", { report, scored }: { report: EvalReport; scored: Scored[] }): EvalReport {
  writeJson(path.join(outDir, `eval_${when}.json`), report);
  fs.writeFileSync(path.join(outDir, `eval_${when}_episodes.jsonl`), episodesJsonl(scored));
  return report;
}

/**
 * `threads`: this thread plus workers to share rollouts and gradients with (pool.ts); the results do not depend on it.
 * `isOverwrite`: replace a run already in `outDir` (run-folder.ts); without it such a folder is refused.
 * `onCheckpoint` / `onFinish`: called after each checkpoint and after eval_after.json is written (e.g. to refresh a report).
 */
export type RunOptions = ClaimOptions & { report: (e: RunEvent) => void; scoreOptions?: ScoreOptions; threads?: number; onCheckpoint?: () => void; onFinish?: () => void };

type RunScenarios = ReturnType<typeof splitScenarios>;

/** Checks every input (scenarios, model folder, run folder) before it writes or starts anything. */
export async function trainRun(cfg: RunConfig, outDir: string, opts: RunOptions): Promise<RunResult> {
  const scenarios = splitScenarios(cfg);
  checkModelFolder(cfg.model);
  claimRunFolder(outDir, opts);
  const { name, reason } = await chooseBackend(cfg.backend);
  const backend = await initBackend(name);
  const threads = opts.threads ?? 1;
  const pool = await startPool(threads, backend);
  const oneThread = pool.threads < threads ? ` (worker threads share the wasm and cpu backends only: ${backend} runs on this one)` : "";
  opts.report({ kind: "info", message: `backend ${backend} (${reason}), ${pool.threads} thread${pool.threads > 1 ? "s" : ""}${oneThread}` });
  try {
    return await trainWith(pool, backend, cfg, { outDir, scenarios }, opts);
  } finally {
    await pool.close();
  }
}

async function trainWith(pool: Pool, backend: BackendName, cfg: RunConfig, { outDir, scenarios }: { outDir: string; scenarios: RunScenarios }, opts: RunOptions): Promise<RunResult> {
  const { report } = opts;
  fs.mkdirSync(path.join(outDir, "samples"), { recursive: true });
  if (!opts.isResume) writeJson(path.join(outDir, "config.json"), cfg);
  const { train, evalSet, validation } = scenarios;
  const baseDir = await prepareBaseModel(cfg, train, { report, pool, backend });
  await pool.load(baseDir);
  const model = loadModel(baseDir);
  const tokenizer = await loadTokenizer(baseDir);
  const evalScenarios = stratified(evalSet, cfg.eval.maxScenarios);
  const beforePath = path.join(outDir, "eval_before.json");
  const before = opts.isResume && fs.existsSync(beforePath)
    ? (JSON.parse(fs.readFileSync(beforePath, "utf8")) as EvalReport)
    : writeEval(outDir, "before", await runEval({ policy: { model, tokenizer }, pool }, evalScenarios, cfg, "before", opts));

  const lora = createLora(model, cfg.lora, cfg.seed);
  const adam = createAdam(lora.variables);
  const ctx: TrainContext = { policy: { model, tokenizer, adapters: lora.adapters }, lora, adam, cfg, pool, scoreOptions: opts.scoreOptions };
  try {
    const best = await trainSteps(ctx, { outDir, baseDir, train, validation }, opts);
    const selected = best.current();
    const final: Lora = selected ? loadAdapter(best.adapterDir, model) : lora;
    try {
      if (selected) report({ kind: "info", message: `selected the adapter after step ${selected.step} of ${cfg.steps} (validation: balanced decision accuracy ${(100 * selected.score).toFixed(1)} %)` });
      await saveAdapter(path.join(outDir, "adapter"), final, { baseModelDir: baseDir });
      const after = writeEval(outDir, "after", await runEval({ policy: { model, tokenizer, adapters: final.adapters }, lora: final, pool }, evalScenarios, cfg, "after", opts));
      opts.onFinish?.();
      return { before, after, outDir, selected };
    } finally {
      if (final !== lora) disposeLora(final);
    }
  } finally {
    disposeAdam(adam);
    disposeLora(lora);
    disposeModel(model);
  }
}

type StepsInput = { outDir: string; baseDir: string; train: Scenario[]; validation: Scenario[] };

/**
 * The GRPO steps from the last checkpoint (or 0) to `cfg.steps`, with metrics, samples,
 * validation evals and checkpoints written as they go; returns the best validated step.
 */
async function trainSteps(ctx: TrainContext, f: StepsInput, opts: RunOptions): Promise<BestStep> {
  const { cfg, lora, adam } = ctx;
  const checkpointDir = path.join(f.outDir, "checkpoint");
  const metricsPath = path.join(f.outDir, "metrics.jsonl");
  let start = 0;
  if (opts.isResume && fs.existsSync(checkpointDir)) start = loadCheckpoint(checkpointDir, ctx.policy.model, { lora, adam }).nextStep;
  truncateLog(metricsPath, start);
  truncateLog(path.join(f.outDir, VALIDATION_LOG), start + 1); // the validation after step `start` is redone
  const best = bestStep(f.outDir, lora, f.baseDir, opts.isResume, cfg.select.benignTolerance);
  const valScenarios = stratified(f.validation, cfg.select.maxScenarios);
  const validate = async (done: number) => {
    const { report: result } = await runEval({ policy: ctx.policy, lora, pool: ctx.pool ?? IN_PROCESS }, valScenarios, cfg, `validation after step ${done}`, opts);
    const { score, best: kept } = await best.record(done, result);
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    opts.report({ kind: "info", message: `validation after step ${done}: balanced decision accuracy ${pct(score)} (best: step ${kept.step}, ${pct(kept.score)})` });
  };
  opts.report({ kind: "info", message: `model ${f.baseDir}: ${cfg.lora.targets.length} LoRA targets, ${lora.variables.reduce((a, v) => a + v.size, 0)} trainable parameters; steps ${start}..${cfg.steps - 1}` });
  if (cfg.select.every > 0 && start === 0) await validate(0);
  for (let step = start; step < cfg.steps; step++) {
    const scenarios = scenariosForStep(f.train, cfg, step);
    const lr = learningRate(cfg.optim, adam.step);
    const result = await trainStep(ctx, scenarios, step);
    const metrics = stepMetrics(step, scenarios, result, { lr, liveTensors: tf.memory().numTensors, groupSize: cfg.groupSize });
    fs.appendFileSync(metricsPath, `${JSON.stringify(metrics)}\n`);
    if (cfg.sampleEvery > 0 && (step + 1) % cfg.sampleEvery === 0) {
      const lines = sampleRecords(step, scenarios, result, cfg.groupSize).map((r) => JSON.stringify(r));
      fs.writeFileSync(path.join(f.outDir, "samples", `step-${String(step).padStart(5, "0")}.jsonl`), `${lines.join("\n")}\n`);
    }
    opts.report({ kind: "step", metrics, steps: cfg.steps });
    const last = step === cfg.steps - 1;
    // validate before the checkpoint: a resume from it never skips a validation
    if (cfg.select.every > 0 && ((step + 1) % cfg.select.every === 0 || last)) await validate(step + 1);
    if ((cfg.checkpointEvery > 0 && (step + 1) % cfg.checkpointEvery === 0) || last) {
      await saveCheckpoint(checkpointDir, lora, adam, { nextStep: step + 1, adamStep: adam.step }, f.baseDir);
      opts.onCheckpoint?.();
    }
  }
  return best;
}
