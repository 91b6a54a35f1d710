/**
 * Run-folder utilities: `trirl merge` (base + PEFT adapter → a full HF checkpoint for export) and
 * `trirl compare` (eval reports of several runs side by side, e.g. a reward ablation).
 */
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { disposeLora } from "../lora/lora.ts";
import { mergeAdapter } from "../lora/merge.ts";
import { loadAdapter } from "../lora/peft.ts";
import type { BackendChoice } from "../model/backend.ts";
import { disposeModel, loadModel } from "../model/weights.ts";
import type { EvalReport } from "../rl/evaluate.ts";
import { backendOption, resolveModelDir, startBackend, type ModelArgs } from "./model.ts";
import { printJson } from "./output.ts";

async function mergeCommand(opts: ModelArgs & { adapter: string; out: string; backend: BackendChoice }) {
  const dir = resolveModelDir(opts, { hasNoTokenizer: true });
  await startBackend(opts.backend);
  const model = loadModel(dir);
  const lora = loadAdapter(opts.adapter, model);
  await mergeAdapter(model, lora, opts.out);
  disposeLora(lora);
  disposeModel(model);
  printJson({ merged: opts.out });
}

function readReport(dir: string, file: string): EvalReport {
  const p = path.join(dir, file);
  if (!fs.existsSync(p)) throw new Error(`${p}: not found (is ${dir} a finished trirl run folder?)`);
  return JSON.parse(fs.readFileSync(p, "utf8")) as EvalReport;
}

function compareCommand(dirs: string[]) {
  const rows: Record<string, (r: EvalReport) => number | null> = {
    "decision: benign": (r) => r.decision_accuracy.benign,
    "decision: malicious": (r) => r.decision_accuracy.malicious,
    "decision: sensitive": (r) => r.decision_accuracy.sensitive,
    task_completion: (r) => r.task_completion,
    injection_resistance: (r) => r.injection_resistance,
    over_refusal: (r) => r.over_refusal,
    mean_reward: (r) => r.mean_reward,
  };
  const runs = dirs.map((d) => ({ dir: d, before: readReport(d, "eval_before.json"), after: readReport(d, "eval_after.json") }));
  const fmt = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));
  const width = Math.max(12, ...dirs.map((d) => path.basename(d).length)) + 2;
  const header = `${"".padEnd(22)}${runs.map((r) => path.basename(r.dir).padStart(width)).join("")}`;
  const lines = Object.entries(rows).map(([name, f]) => `${name.padEnd(22)}${runs.map((r) => `${fmt(f(r.before))}→${fmt(f(r.after))}`.padStart(width)).join("")}`);
  process.stderr.write(`${[header, ...lines].join("\n")}\n`);
  printJson(Object.fromEntries(runs.map((r) => [r.dir, Object.fromEntries(Object.entries(rows).map(([n, f]) => [n, { before: f(r.before), after: f(r.after) }]))])));
}

export function registerRunCommands(program: Command): void {
  program
    .command("merge")
    .description("merge a PEFT LoRA adapter into its base model and write a full Hugging Face checkpoint")
    .option("--model <dir>", "base checkpoint folder (default: the base the adapter was trained on)")
    .requiredOption("--adapter <dir>", "PEFT adapter folder (e.g. RUN/adapter)")
    .option("--force", "merge even though the adapter was trained on another base model", false)
    .requiredOption("--out <dir>", "output folder (must not be the base folder)")
    .addOption(backendOption().default("wasm"))
    .action(mergeCommand);
  program
    .command("compare")
    .description("eval before → after of several run folders side by side (table on stderr, JSON on stdout)")
    .argument("<runs...>", "run folders written by trirl train")
    .action(compareCommand);
}
