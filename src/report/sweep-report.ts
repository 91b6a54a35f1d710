/**
 * The sweep report (sweep.html): a table of every run (linked to its report.html), a table of
 * each grid combination's eval-after metrics as mean ± std over its finished seeds, and a plot of
 * each eval metric against each swept key: one series per combination of the other keys, the
 * mean over seeds with a mean ± std band. Runs not finished yet show as pending.
 */
import fs from "node:fs";
import path from "node:path";
import type { EvalReport } from "../rl/evaluate.ts";
import { selectionScore } from "../rl/select.ts";
import { LABELS } from "../scenario/schema.ts";
import { mean, slug, std, type ChartSpec, type Series } from "./chart.ts";
import { renderPage, type Cell, type Table } from "./page.ts";
import { REPORT_FILE, runStatus } from "./run-report.ts";
import { readRun, type RunData } from "./run-data.ts";
import type { SweepPlan, SweepRun } from "./sweep-grid.ts";

type Metric = { name: string; value: (e: EvalReport) => number | null };
const METRICS: Metric[] = [
  ...LABELS.map((l): Metric => ({ name: `decision accuracy: ${l}`, value: (e) => e.decision_accuracy[l] })),
  { name: "balanced decision accuracy", value: (e) => selectionScore(e) },
  { name: "task completion", value: (e) => e.task_completion },
  { name: "injection resistance", value: (e) => e.injection_resistance },
  { name: "over-refusal", value: (e) => e.over_refusal },
  { name: "mean reward", value: (e) => e.mean_reward },
];

type Loaded = { run: SweepRun; data: RunData | undefined };
const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const comboKey = (values: Record<string, unknown>, keys: readonly string[]) => keys.map((k) => `${k}=${text(values[k])}`).join(", ");

/** `metric` over the finished runs among `runs` (nulls left out): mean, std and count. */
function stats(runs: readonly Loaded[], metric: Metric): { mean: number; std: number; n: number } | undefined {
  const xs = runs.flatMap((r) => (r.data?.after ? [metric.value(r.data.after)] : [])).filter((v): v is number => v !== null);
  return xs.length === 0 ? undefined : { mean: mean(xs), std: std(xs), n: xs.length };
}

function runsTable(plan: SweepPlan, loaded: readonly Loaded[]): Table {
  const keys = plan.keys.map((k) => k.key);
  const rows = loaded.map(({ run, data }): Cell[] => [
    data ? { text: REPORT_FILE, href: `${run.name}/${REPORT_FILE}` } : "not started",
    ...keys.map((k) => text(run.values[k])),
    run.seed,
    data ? runStatus(data) : "pending",
    ...METRICS.map((m) => (data?.after ? m.value(data.after) : null)),
  ]);
  return { id: "sweep-runs", title: "Runs (eval after)", columns: ["run", ...keys, "seed", "status", ...METRICS.map((m) => m.name)], rows };
}

/** Each distinct combination of values (seeds pooled), in plan order. */
function combinations(loaded: readonly Loaded[], keys: readonly string[]): Loaded[][] {
  const groups = new Map<string, Loaded[]>();
  for (const l of loaded) groups.set(comboKey(l.run.values, keys), [...(groups.get(comboKey(l.run.values, keys)) ?? []), l]);
  return [...groups.values()];
}

function combinationsTable(plan: SweepPlan, loaded: readonly Loaded[]): Table {
  const keys = plan.keys.map((k) => k.key);
  const cell = (s: ReturnType<typeof stats>) => (s ? `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}` : null);
  const rows = combinations(loaded, keys).map((group): Cell[] => [
    ...keys.map((k) => text(group[0].run.values[k])),
    `${group.filter((g) => g.data?.after).length} of ${group.length}`,
    ...METRICS.map((m) => cell(stats(group, m))),
  ]);
  return { id: "sweep-combinations", title: "Mean ± std over seeds (eval after)", columns: [...keys, "seeds finished", ...METRICS.map((m) => m.name)], rows };
}

/** `metric` against the values of `key`: a series per combination of the other keys. */
function metricChart(plan: SweepPlan, loaded: readonly Loaded[], key: string, metric: Metric): ChartSpec {
  const values = plan.keys.find((k) => k.key === key)!.values;
  const others = plan.keys.map((k) => k.key).filter((k) => k !== key);
  const series = combinations(loaded, others).map((group): Series => {
    const points = values.map((v) => stats(group.filter((g) => text(g.run.values[key]) === text(v)), metric));
    return {
      label: others.length === 0 ? "mean over seeds" : comboKey(group[0].run.values, others),
      values: points.map((p) => p?.mean ?? null),
      lo: points.map((p) => (p ? p.mean - p.std : null)),
      hi: points.map((p) => (p ? p.mean + p.std : null)),
    };
  });
  return {
    id: slug(`sweep ${key} ${metric.name}`), title: `${metric.name} vs ${key}`, group: `Eval after vs ${key} (mean ± std over seeds)`,
    kind: "line", x: values.map((_, i) => i), xLabels: values.map(text), xTitle: key, series, yRange: metric.name === "mean reward" ? undefined : [0, 1],
  };
}

export function sweepReportHtml(plan: SweepPlan, outDir: string): string {
  const loaded = plan.runs.map((run): Loaded => {
    const dir = path.join(outDir, run.name);
    return { run, data: fs.existsSync(path.join(dir, "config.json")) ? readRun(dir, { isSummaryOnly: true }) : undefined };
  });
  const finished = loaded.filter((l) => l.data?.after).length;
  return renderPage({
    title: `trirl sweep ${path.basename(path.resolve(outDir))}`,
    notes: [
      `grid: ${plan.keys.map((k) => `${k.key} ∈ {${k.values.map(text).join(", ")}}`).join(" × ")} × seeds {${plan.seeds.join(", ")}}: ${plan.runs.length} runs, ${finished} finished`,
      `sweep folder: ${outDir}; written ${new Date().toISOString()} by trirl`,
    ],
    tables: [combinationsTable(plan, loaded), runsTable(plan, loaded)],
    charts: plan.keys.flatMap((k) => METRICS.map((m) => metricChart(plan, loaded, k.key, m))),
    samples: [],
    details: [{ title: "grid", json: Object.fromEntries(plan.keys.map((k) => [k.key, k.values])) }],
  });
}
