/**
 * The charts of a run report: per-step training curves (metrics.jsonl), decision accuracy at each
 * validation with the selected step marked (validation.jsonl, best/selection.json), and the eval
 * split before → after per label, per metric and per category (user × tool). One run: one chart
 * per family with a series per line; several runs: a chart per line with a series per run
 * (curves overlaid, bars side by side).
 */
import type { StepMetrics } from "../rl/metrics.ts";
import type { EvalReport } from "../rl/evaluate.ts";
import { LABELS } from "../scenario/schema.ts";
import { alignTo, slug, unionX, type ChartSpec, type Series } from "./chart.ts";
import type { RunData, ValidationLine } from "./run-data.ts";

type Line<T> = { name: string; value: (m: T) => number | null; spread?: (m: T) => number };
type Family<T> = { title: string; lines: Line<T>[]; yRange?: [number, number] };

const STEP_GROUP = "Training steps";
const VALIDATION_GROUP = "Validation (greedy, validation split)";
const EVAL_GROUP = "Eval split: before → after";

function stepFamilies(runs: readonly RunData[]): Family<StepMetrics>[] {
  const parts = [...new Set(runs.flatMap((r) => r.metrics.flatMap((m) => Object.keys(m.parts))))];
  const one = (title: string, value: (m: StepMetrics) => number, yRange?: [number, number]): Family<StepMetrics> => ({ title, lines: [{ name: title, value }], yRange });
  return [
    { title: "reward (mean ± std over the step's episodes)", lines: [{ name: "reward", value: (m) => m.reward_mean, spread: (m) => m.reward_std }] },
    { title: "reward parts (step mean)", lines: parts.map((p) => ({ name: p, value: (m: StepMetrics) => m.parts[p] ?? null })), yRange: [0, 1] },
    one("zero-spread groups (fraction)", (m) => m.zero_spread_groups, [0, 1]),
    one("KL to the reference", (m) => m.kl),
    one("entropy (nats)", (m) => m.entropy),
    one("clip fraction", (m) => m.clip_fraction),
    one("grad norm (before clipping)", (m) => m.grad_norm),
    one("learning rate", (m) => m.lr),
    { title: "seconds per phase", lines: (["generate", "score", "update"] as const).map((p) => ({ name: p, value: (m: StepMetrics) => m.seconds[p] })) },
  ];
}

const validationFamily: Family<ValidationLine> = {
  title: "decision accuracy at each validation",
  yRange: [0, 1],
  lines: [...LABELS.map((l) => ({ name: l, value: (v: ValidationLine) => v.decision_accuracy[l] })), { name: "balanced (selection score)", value: (v: ValidationLine) => v.score }],
};

function pointsOf<T extends { step: number }>(log: readonly T[], f: (m: T) => number | null): Map<number, number | null> {
  return new Map(log.map((m) => [m.step, f(m)]));
}

function series<T extends { step: number }>(x: number[], label: string, log: readonly T[], line: Line<T>): Series {
  const values = alignTo(x, pointsOf(log, line.value));
  if (!line.spread) return { label, values };
  const spread = alignTo(x, pointsOf(log, line.spread));
  return { label, values, lo: values.map((v, i) => (v === null ? null : v - (spread[i] ?? 0))), hi: values.map((v, i) => (v === null ? null : v + (spread[i] ?? 0))) };
}

type LogCharts<T> = { runs: readonly RunData[]; log: (r: RunData) => readonly T[]; families: Family<T>[]; group: string; xTitle: string };

/** One chart per family (one run) or per line (several runs). */
function logCharts<T extends { step: number }>(c: LogCharts<T>): ChartSpec[] {
  const x = unionX(c.runs.map((r) => pointsOf(c.log(r), () => null)));
  const base = { group: c.group, kind: "line" as const, x, xTitle: c.xTitle };
  if (c.runs.length === 1)
    return c.families.map((f) => ({ ...base, id: slug(`${c.group} ${f.title}`), title: f.title, yRange: f.yRange, series: f.lines.map((l) => series(x, l.name, c.log(c.runs[0]), l)) }));
  return c.families.flatMap((f) => f.lines.map((l) => {
    const title = f.lines.length > 1 ? `${f.title}: ${l.name}` : f.title;
    return { ...base, id: slug(`${c.group} ${title}`), title, yRange: f.yRange, series: c.runs.map((r) => series(x, r.name, c.log(r), l)) };
  }));
}

/** The selected step as a point on the balanced-score curve. */
function selectedSeries(run: RunData, x: number[]): Series[] {
  const selected = run.selection;
  if (!selected) return [];
  return [{ label: `selected: step ${selected.step}`, values: x.map((s) => (s === selected.step ? selected.score : null)), isPoints: true }];
}

function validationCharts(runs: readonly RunData[]): ChartSpec[] {
  if (runs.every((r) => r.validation.length === 0)) return [];
  const charts = logCharts({ runs, log: (r) => r.validation, families: [validationFamily], group: VALIDATION_GROUP, xTitle: "steps done" });
  if (runs.length === 1) charts[0].series.push(...selectedSeries(runs[0], charts[0].x));
  return charts;
}

type EvalRow = { name: string; value: (r: EvalReport) => number | null };

const EVAL_METRICS: EvalRow[] = [
  { name: "task completion", value: (r) => r.task_completion },
  { name: "injection resistance", value: (r) => r.injection_resistance },
  { name: "over-refusal", value: (r) => r.over_refusal },
  { name: "well-formed (R_gen)", value: (r) => r.r_gen },
  { name: "mean reward", value: (r) => r.mean_reward },
];

/** Bars of `rows` before and after, a pair of series per run. */
function evalBars(runs: readonly RunData[], title: string, rows: EvalRow[]): ChartSpec {
  const name = (r: RunData, when: string) => (runs.length === 1 ? when : `${r.name} ${when}`);
  const values = (report: EvalReport | undefined) => rows.map((row) => (report ? row.value(report) : null));
  return {
    id: slug(`eval ${title}`), title, group: EVAL_GROUP, kind: "bars", xTitle: "", yRange: [0, 1],
    x: rows.map((_, i) => i), xLabels: rows.map((r) => r.name),
    series: runs.flatMap((r) => [{ label: name(r, "before"), values: values(r.before) }, { label: name(r, "after"), values: values(r.after) }]),
  };
}

function evalCharts(runs: readonly RunData[]): ChartSpec[] {
  if (runs.every((r) => !r.before)) return [];
  const categories = [...new Set(runs.flatMap((r) => [r.before, r.after].flatMap((e) => Object.keys(e?.reward_by_category ?? {}))))].sort();
  return [
    evalBars(runs, "decision accuracy per user label", LABELS.map((l) => ({ name: l, value: (r) => r.decision_accuracy[l] }))),
    evalBars(runs, "eval metrics", EVAL_METRICS),
    evalBars(runs, "mean reward per category (user / tools)", categories.map((c) => ({ name: c, value: (r) => r.reward_by_category[c] ?? null }))),
  ];
}

export function runCharts(runs: readonly RunData[]): ChartSpec[] {
  return [
    ...logCharts({ runs, log: (r) => r.metrics, families: stepFamilies(runs), group: STEP_GROUP, xTitle: "step" }),
    ...validationCharts(runs),
    ...evalCharts(runs),
  ];
}
