/**
 * The run's scenarios and base model. "tiny" is the embedded default, generated on first use.
 * With `warmStart.steps > 0` the base is first fine-tuned on reference episodes and saved as a
 * new checkpoint, cached in a sibling folder named by a hash of everything that
 * shapes it, so later runs (and a resumed run) reuse it instead of retraining.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RunConfig } from "../config.ts";
import { saveModel } from "../lora/merge.ts";
import type { BackendName } from "../model/backend.ts";
import { ensureTinyModel } from "../model/tiny-model.ts";
import { nativeAddon } from "../model/native-kernels.ts";
import { checkTokenizerFiles, loadTokenizer } from "../model/tokenizer.ts";
import { checkCheckpointFolder, disposeModel, loadModel } from "../model/weights.ts";
import { builtinScenarios } from "../scenario/corpus/generate.ts";
import { loadScenarios } from "../scenario/jsonl.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { RunEvent } from "./run.ts";
import { IN_PROCESS, type Pool } from "./pool.ts";
import { warmStart, warmTarget } from "./warm-start.ts";

type Split = NonNullable<Scenario["split"]>;

/** The scenarios of `split`; a file in which no scenario has a `split` serves all of them to every split. */
function ofSplit(all: readonly Scenario[], split: Split, where: string, purpose: string, hint = ""): Scenario[] {
  if (!all.some((s) => s.split !== undefined)) return [...all];
  const picked = all.filter((s) => s.split === split);
  if (picked.length > 0) return picked;
  const counts = new Map<string, number>();
  for (const s of all) counts.set(s.split ?? "(none)", (counts.get(s.split ?? "(none)") ?? 0) + 1);
  const present = [...counts].map(([name, n]) => `${name} ${n}`).join(", ");
  throw new Error(`${where}: no scenarios with split "${split}", which ${purpose} (splits in the file: ${present})${hint && `\n---> HINT: ${hint}`}`);
}

function runScenarios(cfg: Pick<RunConfig, "scenarios" | "corpusSeed">): { all: Scenario[]; where: string } {
  return { all: cfg.scenarios ? loadScenarios(cfg.scenarios) : builtinScenarios({ seed: cfg.corpusSeed }), where: cfg.scenarios ?? "the built-in corpus" };
}

/**
 * Train, eval and validation (best-step selection) scenarios; a file without `split` fields serves
 * every scenario to all three.
 */
export function splitScenarios(cfg: RunConfig): { train: Scenario[]; evalSet: Scenario[]; validation: Scenario[] } {
  const { all, where } = runScenarios(cfg);
  const train = ofSplit(all, "train", where, "training draws from");
  const evalSet = ofSplit(all, cfg.eval.split, where, "the before/after eval uses (eval.split)");
  const validation = cfg.select.every > 0
    ? ofSplit(all, "validation", where, "best-step selection evaluates", "add some, or set select.every to 0 to keep the last step")
    : [];
  return { train, evalSet, validation };
}

/** The scenarios `trirl eval` evaluates: those of `cfg.eval.split` only (an eval needs no train split). */
export function evalScenarios(cfg: Pick<RunConfig, "scenarios" | "corpusSeed" | "eval">): Scenario[] {
  const { all, where } = runScenarios(cfg);
  return ofSplit(all, cfg.eval.split, where, "--split asks for");
}

/** Throws a one-line error unless `model` ("tiny" or a folder) can be loaded with its tokenizer; reads no weights. */
export function checkModelFolder(model: string): void {
  if (model === "tiny") return; // generated on first use
  checkCheckpointFolder(model);
  checkTokenizerFiles(model);
}

/**
 * Where the warm start of `cfg` on `baseDir` is cached: named by a hash of what shapes it.
 * `version` goes up whenever the code computes it differently, to the bit (a cache written by
 * older kernels would start RL from slightly different weights than a fresh clone does).
 * 5: every batched wasm product on XNNPACK (wasm-kernels.ts).
 * 6: the sampler's log Σ exp comes from the backend (float32); on wasm, `kernels` says whether
 *    trirl's native products and exp ran (native-kernels.ts): the two give different bits.
 * 7: the reference agent judges the request in its first reasoning line (scripted-agent.ts).
 * `backend`: a GPU backend's warm start differs from wasm's in float rounding, so it is keyed
 * apart; wasm and cpu keep the keys they always had.
 * `train`: the scenarios it learns from, by content (a changed file or built-in corpus is a new key).
 */
export function warmStartDir(cfg: RunConfig, baseDir: string, train: readonly Scenario[], backend: BackendName = "wasm"): string {
  return `${baseDir.replace(/\/+$/, "")}-warm-${warmStartKey(cfg, baseDir, train, backend)}`;
}

function warmStartKey(cfg: RunConfig, baseDir: string, train: readonly Scenario[], backend: BackendName): string {
  const { microBatch, ...warm } = cfg.warmStart; // microBatch is keyed with the other loss settings
  const scenarios = crypto.createHash("sha256").update(JSON.stringify(train)).digest("hex").slice(0, 16);
  const shaping = { baseDir: path.resolve(baseDir), warmStart: warm, scenarios, pYes: cfg.rollout.pYes, maxTurns: cfg.rollout.maxTurns, systemPrompt: cfg.rollout.systemPrompt, loss: { microBatch, chunkRows: cfg.loss.chunkRows, ...(cfg.loss.sharePrefix && microBatch > 1 ? { sharePrefix: true } : {}) }, version: 9, ...(backend === "wasm" || backend === "cpu" ? {} : { backend }), ...(backend === "wasm" && nativeAddon() ? { kernels: "native" } : {}) };
  return crypto.createHash("sha256").update(JSON.stringify(shaping)).digest("hex").slice(0, 12);
}

/** Returns the folder of the model RL starts from (and is KL-regularised towards). */
/** `pool` shares the warm start's micro-batches between threads; `backend` is the one it runs on. */
export async function prepareBaseModel(cfg: RunConfig, train: readonly Scenario[], { report, pool = IN_PROCESS, backend = "wasm" }: { report: (e: RunEvent) => void; pool?: Pool; backend?: BackendName }): Promise<string> {
  const baseDir = cfg.model === "tiny" ? ensureTinyModel() : cfg.model;
  if (cfg.warmStart.steps === 0) return baseDir;
  const warmDir = warmStartDir(cfg, baseDir, train, backend);
  if (fs.existsSync(path.join(warmDir, "model.safetensors"))) {
    report({ kind: "info", message: `warm start: reusing ${warmDir}` });
    return warmDir;
  }
  await pool.load(baseDir);
  const model = loadModel(baseDir);
  const tokenizer = await loadTokenizer(baseDir);
  const ws = cfg.warmStart;
  const opts = { ...ws, pYes: cfg.rollout.pYes, maxTurns: cfg.rollout.maxTurns, systemPrompt: cfg.rollout.systemPrompt, chunkRows: cfg.loss.chunkRows, checkpointLayers: cfg.loss.checkpointLayers, sharePrefix: cfg.loss.sharePrefix, pool };
  const target = warmTarget(model, opts);
  const tmp = `${warmDir}.tmp-${process.pid}`;
  try {
    await warmStart(target, tokenizer, train, opts, (step, loss) =>
      report({ kind: "progress", phase: "warm start", done: step + 1, total: ws.steps, detail: `nll ${loss.toFixed(3)}` }));
    await saveModel(target.model, tmp, target.adapters);
    fs.renameSync(tmp, warmDir);
  } finally {
    target.dispose();
    disposeModel(model);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report({ kind: "info", message: `warm start: merged into ${warmDir}` });
  return warmDir;
}
