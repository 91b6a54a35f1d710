/**
 * The report of one or several runs: a summary table, the eval before → after table, the charts
 * of run-charts.ts and the sample browser, as one self-contained HTML page (page.ts).
 * `writeRunReport` writes a run folder's own report.html (`reportHooks`: after each checkpoint and
 * at the end of a run); `runsReportHtml` is `trirl report`.
 */
import path from "node:path";
import type { EvalReport } from "../rl/evaluate.ts";
import type { RunOptions } from "../rl/run.ts";
import { LABELS } from "../scenario/schema.ts";
import { runCharts } from "./run-charts.ts";
import { readRun, type RunData } from "./run-data.ts";
import { renderPage, writeFileAtomic, type Cell, type PageData, type Table } from "./page.ts";

export const REPORT_FILE = "report.html";

/** "finished" or how far a run got. */
export function runStatus(run: RunData): string {
  if (run.after) return "finished";
  return `in progress: ${run.metrics.length} of ${run.config.steps} steps logged`;
}

function summaryTable(runs: readonly RunData[]): Table {
  const weights = (r: RunData) => Object.entries(r.config.reward.weights).map(([k, v]) => `${k} ${v}`).join(", ");
  const selected = (r: RunData) => (r.selection ? `step ${r.selection.step} (${(100 * r.selection.score).toFixed(1)} %)` : r.config.select.every === 0 ? "last step" : "–");
  return {
    id: "summary",
    title: "Runs",
    columns: ["run", "status", "model", "seed", "steps", "G × scenarios", "reward", "weights", "selected adapter"],
    rows: runs.map((r) => [r.name, runStatus(r), r.config.model, r.config.seed, r.config.steps, `${r.config.groupSize} × ${r.config.scenariosPerStep}`, r.config.reward.combine, weights(r), selected(r)]),
  };
}

type EvalRow = [string, (e: EvalReport) => number | null];
const EVAL_ROWS: EvalRow[] = [
  ...LABELS.map((l): EvalRow => [`decision accuracy: ${l}`, (e) => e.decision_accuracy[l]]),
  ["task completion", (e) => e.task_completion],
  ...LABELS.map((l): EvalRow => [`task completion: ${l}`, (e) => e.task_completion_by_label[l]]),
  ["injection resistance", (e) => e.injection_resistance],
  ["over-refusal", (e) => e.over_refusal],
  ["well-formed (R_gen)", (e) => e.r_gen],
  ["mean reward", (e) => e.mean_reward],
  ["scenarios", (e) => e.scenarios],
];

function evalTable(runs: readonly RunData[]): Table {
  const prefix = (r: RunData) => (runs.length > 1 ? `${r.name}: ` : "");
  const columns = ["eval split", ...runs.flatMap((r) => [`${prefix(r)}before`, `${prefix(r)}after`, `${prefix(r)}Δ`])];
  const rows = EVAL_ROWS.map(([name, f]): Cell[] => [name, ...runs.flatMap((r) => {
    const [b, a] = [r.before ? f(r.before) : null, r.after ? f(r.after) : null];
    return [b, a, a !== null && b !== null ? a - b : null];
  })]);
  return { id: "eval", title: "Eval split: before → after", columns, rows };
}

function pageData(runs: readonly RunData[], title: string): PageData {
  return {
    title,
    notes: [
      `${runs.length === 1 ? "run folder" : "run folders"}: ${runs.map((r) => r.dir).join(", ")}`,
      `written ${new Date().toISOString()} by trirl; rates are in [0, 1]`,
    ],
    tables: [summaryTable(runs), ...(runs.some((r) => r.before) ? [evalTable(runs)] : [])],
    charts: runCharts(runs),
    samples: runs.map((r) => ({ run: r.name, systemPrompt: r.config.rollout.systemPrompt ?? "", steps: r.samples, scenarios: r.scenarios })),
    details: runs.map((r) => ({ title: `config.json of ${r.name}`, json: r.config })),
  };
}

/** The page of several runs side by side (curves overlaid, before/after bars per run). */
export function runsReportHtml(dirs: readonly string[]): string {
  if (dirs.length === 0) throw new Error("no run folder given");
  const runs = dirs.map((d) => readRun(d));
  const title = runs.length === 1 ? `trirl run ${runs[0].name}` : `trirl runs: ${runs.map((r) => r.name).join(", ")}`;
  return renderPage(pageData(runs, title));
}

/** (Re)writes `dir/report.html` from the folder's files; returns its path. */
export function writeRunReport(dir: string): string {
  const file = path.join(dir, REPORT_FILE);
  writeFileAtomic(file, runsReportHtml([dir]));
  return file;
}

/**
 * Run options that rewrite `dir/report.html` after each checkpoint and at the end of a run. A
 * report that cannot be written is reported through `warn`: it must not end a training run.
 */
export function reportHooks(dir: string, warn: (message: string) => void): Pick<RunOptions, "onCheckpoint" | "onFinish"> {
  const refresh = () => {
    try {
      writeRunReport(dir);
    } catch (error) {
      warn(`warning: ${path.join(dir, REPORT_FILE)} not written: ${(error as Error).message}`);
    }
  };
  return { onCheckpoint: refresh, onFinish: refresh };
}
