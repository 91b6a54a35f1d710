/**
 * A run folder read back into typed data for the report (README "Run folder"): the resolved
 * config, metrics.jsonl, validation.jsonl, eval_before/after.json, best/selection.json and the
 * sample episodes, plus the prompts of the sampled scenarios. A run still in progress reads as
 * far as it got (no eval_after, fewer steps); a log line cut by a crash at the end is skipped.
 * It only reads: writing the page is html.ts's job.
 */
import fs from "node:fs";
import path from "node:path";
import type { RunConfig } from "../config.ts";
import type { EvalReport } from "../rl/evaluate.ts";
import type { sampleRecords, StepMetrics } from "../rl/metrics.ts";
import type { Selection } from "../rl/select.ts";
import { builtinScenarios } from "../scenario/corpus/generate.ts";
import { scenarioCategory } from "../scenario/category.ts";
import { loadScenarios } from "../scenario/jsonl.ts";
import type { Label, Message, Scenario } from "../scenario/schema.ts";

export type SampleRecord = ReturnType<typeof sampleRecords>[number];
export type ValidationLine = { step: number; score: number; decision_accuracy: Record<Label, number | null>; task_completion: number | null; over_refusal: number | null };
/** What a sample browser shows of a scenario besides its episodes: its own messages (the prompt) and what it expects. */
export type ScenarioView = { messages: Message[]; category: string; decision: string };

export type RunData = {
  dir: string;
  /** The folder's base name: how the report labels the run. */
  name: string;
  config: RunConfig;
  metrics: StepMetrics[];
  validation: ValidationLine[];
  before: EvalReport | undefined;
  after: EvalReport | undefined;
  selection: Pick<Selection, "step" | "score"> | undefined;
  samples: { step: number; episodes: SampleRecord[] }[];
  scenarios: Record<string, ScenarioView>;
};

function readJson<T>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (cause) {
    throw new Error(`${file}: not valid JSON (${(cause as Error).message})`, { cause });
  }
}

/** The JSON lines of `file` ([] when absent); a bad last line is a write cut short and is skipped. */
export function readJsonl<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  return lines.flatMap((line, i) => {
    try {
      return [JSON.parse(line) as T];
    } catch (cause) {
      if (i === lines.length - 1) return [];
      throw new Error(`${file}:${i + 1}: not valid JSON (${(cause as Error).message})`, { cause });
    }
  });
}

const SAMPLE_FILE = /^step-(\d+)\.jsonl$/;

function readSamples(dir: string): RunData["samples"] {
  const samplesDir = path.join(dir, "samples");
  if (!fs.existsSync(samplesDir)) return [];
  return fs.readdirSync(samplesDir)
    .map((f) => ({ f, m: SAMPLE_FILE.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map(({ f, m }) => ({ step: Number(m[1]), episodes: readJsonl<SampleRecord>(path.join(samplesDir, f)) }))
    .sort((a, b) => a.step - b.step);
}

// the built-in corpus takes ≈ 0.4 s to build; a run's report is rewritten at every checkpoint
const corpusCache = new Map<string, Scenario[]>();

/** The run's scenarios when they can still be found (a scenario file may have moved since). */
function runScenarios(config: RunConfig): Scenario[] {
  const key = config.scenarios ?? `builtin:${config.corpusSeed}`;
  if (!corpusCache.has(key)) {
    if (config.scenarios !== undefined && !fs.existsSync(config.scenarios)) return [];
    corpusCache.set(key, config.scenarios ? loadScenarios(config.scenarios) : builtinScenarios({ seed: config.corpusSeed }));
  }
  return corpusCache.get(key)!;
}

function scenarioViews(config: RunConfig, samples: RunData["samples"]): Record<string, ScenarioView> {
  const wanted = new Set(samples.flatMap((s) => s.episodes.map((e) => e.scenario_id)));
  if (wanted.size === 0) return {};
  const views: Record<string, ScenarioView> = {};
  for (const s of runScenarios(config))
    if (wanted.has(s.id)) views[s.id] = { messages: s.messages, category: scenarioCategory(s).key, decision: s.expected.decision };
  return views;
}

/**
 * Reads a run folder; throws when `dir` has no config.json (not a trirl run folder).
 * `isSummaryOnly`: leave the sample episodes (and their scenarios) out.
 */
export function readRun(dir: string, opts: { isSummaryOnly?: boolean } = {}): RunData {
  const config = readJson<RunConfig>(path.join(dir, "config.json"));
  if (!config) throw new Error(`${dir}: no config.json (not a trirl run folder)`);
  const samples = opts.isSummaryOnly ? [] : readSamples(dir);
  const selection = readJson<Selection>(path.join(dir, "best", "selection.json"));
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    config,
    metrics: readJsonl<StepMetrics>(path.join(dir, "metrics.jsonl")),
    validation: readJsonl<ValidationLine>(path.join(dir, "validation.jsonl")),
    before: readJson<EvalReport>(path.join(dir, "eval_before.json")),
    after: readJson<EvalReport>(path.join(dir, "eval_after.json")),
    selection: selection && { step: selection.step, score: selection.score },
    samples,
    scenarios: scenarioViews(config, samples),
  };
}
