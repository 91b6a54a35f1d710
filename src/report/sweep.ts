/**
 * Runs a sweep plan (sweep-grid.ts): one run folder per grid combination × seed under the sweep
 * folder, one after another, each with its report.html; then the sweep report (sweep-report.ts).
 * Resumable: a finished run (eval_after.json present) is skipped, a started one is resumed from
 * its checkpoint by trainRun's own resume, so running the same sweep again finishes it. A folder
 * whose config.json differs from the plan's is refused rather than mixed into the sweep.
 */
import fs from "node:fs";
import path from "node:path";
import type { RunConfig } from "../config.ts";
import type { ScoreOptions } from "../reward/reward.ts";
import { trainRun, type RunEvent } from "../rl/run.ts";
import { writeFileAtomic } from "./page.ts";
import { REPORT_FILE, reportHooks, writeRunReport } from "./run-report.ts";
import type { SweepPlan, SweepRun } from "./sweep-grid.ts";
import { sweepReportHtml } from "./sweep-report.ts";

export const SWEEP_FILE = "sweep.json";
export const SWEEP_REPORT = "sweep.html";

export type SweepProgress = { line: (text: string) => void; event: (e: RunEvent) => void };
export type SweepOptions = {
  progress: SweepProgress;
  threads?: number;
  /** Where the base config and the grid came from, recorded in sweep.json. */
  source: { config: string; grid: string };
  scoreOptions?: ScoreOptions;
};
export type RunOutcome = "skipped (finished)" | "resumed" | "trained";
export type SweepResult = { out: string; report: string; runs: { name: string; dir: string; outcome: RunOutcome }[] };

/** JSON with sorted keys, so two configs compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(value);
}

/** The top-level keys where two configs differ. */
function differingKeys(a: RunConfig, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => canonical((a as Record<string, unknown>)[k]) !== canonical(b[k]));
}

/** What to do with a run's folder: train it, resume it, or skip it. Throws on a foreign folder. */
function outcomeOf(run: SweepRun, dir: string): RunOutcome {
  const configFile = path.join(dir, "config.json");
  if (!fs.existsSync(configFile)) return "trained";
  const existing = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, unknown>;
  const diff = differingKeys(run.config, existing);
  if (diff.length > 0)
    throw new Error(`${dir}: its config.json differs from this sweep's run ${run.name} (in ${diff.join(", ")})\n---> HINT: another grid or base config wrote this folder; sweep into another --out`);
  return fs.existsSync(path.join(dir, "eval_after.json")) ? "skipped (finished)" : "resumed";
}

function writeSweepFiles(plan: SweepPlan, outDir: string, opts: SweepOptions): string {
  const summary = { source: opts.source, keys: plan.keys, seeds: plan.seeds, runs: plan.runs.map((r) => ({ name: r.name, values: r.values, seed: r.seed })) };
  writeFileAtomic(path.join(outDir, SWEEP_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  const report = path.join(outDir, SWEEP_REPORT);
  writeFileAtomic(report, sweepReportHtml(plan, outDir));
  return report;
}

export async function runSweep(plan: SweepPlan, outDir: string, opts: SweepOptions): Promise<SweepResult> {
  fs.mkdirSync(outDir, { recursive: true });
  const outcomes = plan.runs.map((run) => ({ run, dir: path.join(outDir, run.name), outcome: outcomeOf(run, path.join(outDir, run.name)) }));
  writeSweepFiles(plan, outDir, opts);
  for (const [i, { run, dir, outcome }] of outcomes.entries()) {
    opts.progress.line(`sweep run ${i + 1}/${plan.runs.length}: ${run.name} — ${outcome === "trained" ? "training" : outcome === "resumed" ? "resuming" : outcome}`);
    if (outcome === "skipped (finished)") {
      if (!fs.existsSync(path.join(dir, REPORT_FILE))) writeRunReport(dir);
      continue;
    }
    await trainRun(run.config, dir, {
      isResume: outcome === "resumed",
      report: opts.progress.event,
      threads: opts.threads,
      scoreOptions: opts.scoreOptions,
      ...reportHooks(dir, opts.progress.line),
    });
    writeSweepFiles(plan, outDir, opts); // a sweep stopped half-way still has a report of what ran
  }
  const report = writeSweepFiles(plan, outDir, opts);
  return { out: outDir, report, runs: outcomes.map(({ run, dir, outcome }) => ({ name: run.name, dir, outcome })) };
}
