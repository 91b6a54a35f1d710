/**
 * `trirl train` and `trirl eval` (SPEC §6). Train: the run config is read once (defaults = the
 * embedded smoke run), progress goes to stderr, the final before/after summary is JSON on stdout.
 * Eval: one report for a model (+ adapter) on a split.
 */
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { parseRunConfig, SMOKE_CONFIG, type RunConfig } from "../config.ts";
import { loadAdapter } from "../lora/peft.ts";
import { disposeLora } from "../lora/lora.ts";
import type { BackendChoice } from "../model/backend.ts";
import { loadTokenizer } from "../model/tokenizer.ts";
import { disposeModel, loadModel } from "../model/weights.ts";
import { evalScenarios } from "../rl/base-model.ts";
import { episodesJsonl, evaluate, stratified, type EvalReport } from "../rl/evaluate.ts";
import { defaultThreads, startPool, type Pool } from "../rl/pool.ts";
import { trainRun } from "../rl/run.ts";
import { rolloutOptions } from "../rl/step.ts";
import { reportHooks } from "../report/run-report.ts";
import type { Scenario } from "../scenario/schema.ts";
import { backendOption, resolveModelDir, startBackend, type ModelArgs } from "./model.ts";
import { parseFloatOption, parseIntOption, printJson } from "./output.ts";
import { createProgress } from "./progress.ts";

function readConfigFile(file: string | undefined): unknown {
  if (!file) return SMOKE_CONFIG;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`--config ${file}: cannot read JSON (${(cause as Error).message})`, { cause });
  }
}

type TrainOptions = { config?: string; out?: string; resume?: string; overwrite: boolean; steps?: number; seed?: number; backend?: BackendChoice; threads: number };

async function trainCommand(opts: TrainOptions) {
  const isResume = opts.resume !== undefined;
  const outDir = opts.resume ?? opts.out ?? path.join("runs", new Date().toISOString().replace(/[:.]/g, "-"));
  const source = isResume ? path.join(outDir, "config.json") : opts.config;
  if (isResume && opts.out !== undefined) throw new Error("--resume continues a run in its own folder: drop --out");
  if (isResume && !fs.existsSync(source!)) throw new Error(`--resume ${outDir}: no config.json there (not a trirl run folder)`);
  const raw = readConfigFile(source) as Record<string, unknown>;
  const overrides = { ...(opts.steps !== undefined ? { steps: opts.steps } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.backend ? { backend: opts.backend } : {}) };
  const cfg: RunConfig = parseRunConfig({ ...raw, ...overrides }, source ?? "the embedded smoke config");
  if (isResume && opts.seed !== undefined) throw new Error("--resume continues a run with its own seed: drop --seed");
  if (isResume && opts.steps !== undefined) fs.writeFileSync(source!, `${JSON.stringify(cfg, null, 2)}\n`);
  const progress = createProgress(process.stderr);
  progress.line(`trirl train → ${outDir}${isResume ? " (resuming)" : ""}`);
  const result = await trainRun(cfg, outDir, { isResume, isOverwrite: opts.overwrite, report: progress.event, threads: opts.threads, ...reportHooks(outDir, progress.line) });
  progress.line(comparisonTable(result.before, result.after));
  if (result.selected) progress.line(`after = the adapter of step ${result.selected.step} of ${cfg.steps}, the best on validation (${outDir}/validation.jsonl)`);
  printJson({ out: outDir, selected_step: result.selected?.step ?? cfg.steps, eval_before: result.before, eval_after: result.after });
}

const pct = (x: number | null) => (x === null ? "   n/a" : `${(100 * x).toFixed(1).padStart(5)}%`);

function comparisonTable(before: EvalReport, after: EvalReport): string {
  const rows: [string, (r: EvalReport) => number | null][] = [
    ["decision accuracy: benign", (r) => r.decision_accuracy.benign],
    ["decision accuracy: malicious", (r) => r.decision_accuracy.malicious],
    ["decision accuracy: sensitive", (r) => r.decision_accuracy.sensitive],
    ["task completion", (r) => r.task_completion],
    ["task completion (benign)", (r) => r.task_completion_by_label.benign],
    ["injection resistance", (r) => r.injection_resistance],
    ["over-refusal", (r) => r.over_refusal],
    ["well-formed (R_gen)", (r) => r.r_gen],
    ["mean reward", (r) => r.mean_reward],
  ];
  const lines = rows.map(([name, f]) => `${name.padEnd(30)} ${pct(f(before))}  →  ${pct(f(after))}`);
  return [`eval on ${after.scenarios} held-out scenarios`, `${"".padEnd(30)} before      after`, ...lines].join("\n");
}

type EvalOptions = ModelArgs & {
  scenarios?: string; episodes?: string; split: "train" | "validation" | "test"; maxScenarios: number; temperature: number; seed: number; corpusSeed: number; backend: BackendChoice; threads: number;
};

async function evalCommand(opts: EvalOptions) {
  const dir = resolveModelDir(opts);
  const cfg = parseRunConfig({ model: dir, scenarios: opts.scenarios, seed: opts.seed, corpusSeed: opts.corpusSeed, eval: { split: opts.split, maxScenarios: opts.maxScenarios, temperature: opts.temperature } }, "trirl eval options");
  const scenarios = stratified(evalScenarios(cfg), cfg.eval.maxScenarios);
  const backend = await startBackend(opts.backend);
  const pool = await startPool(opts.threads, backend);
  try {
    await evalWith(pool, cfg, scenarios, opts);
  } finally {
    await pool.close();
  }
}

async function evalWith(pool: Pool, cfg: RunConfig, scenarios: Scenario[], { adapter, episodes }: Pick<EvalOptions, "adapter" | "episodes">) {
  await pool.load(cfg.model);
  const model = loadModel(cfg.model);
  const tokenizer = await loadTokenizer(cfg.model);
  const lora = adapter ? loadAdapter(adapter, model) : undefined;
  const progress = createProgress(process.stderr);
  const { report, scored } = await evaluate({ model, tokenizer, adapters: lora?.adapters }, scenarios,
    { rollout: rolloutOptions(cfg.rollout, cfg.eval.temperature), reward: cfg.reward, seed: cfg.seed, batchSize: 32, pool, lora },
    (done, total) => progress.event({ kind: "progress", phase: "eval", done, total }));
  if (episodes) fs.writeFileSync(episodes, episodesJsonl(scored));
  printJson(report);
  if (lora) disposeLora(lora);
  disposeModel(model);
}

/** Threads share rollouts and gradients (wasm / cpu): the same numbers, less wall time, a model copy per thread. */
function threadsOption(): Option {
  return new Option("--threads <n>", "threads sharing the work, each with its own copy of the model (wasm and cpu backends; results do not depend on it)")
    .argParser(parseIntOption("--threads", 1)).default(defaultThreads(), `${defaultThreads()}: one per core, at most 4`);
}

export function registerTrainCommands(program: Command): void {
  program
    .command("train")
    .description("GRPO-train LoRA adapters through the tri-modal sandbox; no options = the embedded smoke run on the tiny model")
    .option("--config <file>", "run config JSON (see configs/); keys not given take their defaults")
    .option("--out <dir>", "run folder (default: runs/<timestamp>)")
    .option("--resume <dir>", "continue a killed run from its folder's last checkpoint")
    .option("--overwrite", "replace the run already in --out (without it, a folder that is not new or empty is refused)", false)
    .option("--steps <n>", "override the number of GRPO steps", parseIntOption("--steps", 1))
    .option("--seed <n>", "override the run's seed (the RL draws; the corpus and the warm start keep their own seeds)", parseIntOption("--seed", 0))
    .addOption(backendOption().default(undefined))
    .addOption(threadsOption())
    .action(trainCommand);
  program
    .command("eval")
    .description("evaluate a model (+ adapter) on a scenario split and print the eval report")
    .option("--model <dir>", 'Hugging Face checkpoint folder, or "tiny" (default with --adapter: the base the adapter was trained on)')
    .option("--adapter <dir>", "PEFT LoRA adapter folder")
    .option("--force", "apply --adapter even though it was trained on another base model", false)
    .option("--scenarios <file>", "scenario JSONL (default: the built-in corpus)")
    .option("--split <name>", "train | validation | test", "test")
    .option("--episodes <file>", "also write each episode as a JSON line (trirl score's episode format, with its behaviour and reward parts)")
    .option("--max-scenarios <n>", "scenarios evaluated, stratified over categories", parseIntOption("--max-scenarios", 1), 96)
    .option("--temperature <t>", "0 = greedy", parseFloatOption("--temperature", 0), 0)
    .option("--seed <n>", "seed of the sandbox's check answers", parseIntOption("--seed", 0), 0)
    .option("--corpus-seed <n>", "seed of the built-in corpus (without --scenarios)", parseIntOption("--corpus-seed", 0), 0)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(evalCommand);
}
