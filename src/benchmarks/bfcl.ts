/**
 * `trirl bench bfcl`: the single-turn categories of BFCL v4 that are in the data. AST categories
 * are scored by the AST checker against `possible_answer/` (bfcl-checker.ts); irrelevance and
 * live_irrelevance are correct when no call decodes, live_relevance when one does. Per-category
 * accuracy, then BFCL's groups: non-live simple (mean of python/java/js), non-live (mean of simple,
 * multiple, parallel, parallel_multiple), live (weighted by count; live_multiple is not in the data),
 * hallucination (mean of the two irrelevance categories), relevance, and the unweighted mean of
 * every category run.
 */
import type { Policy } from "../rollout/rollout.ts";
import { checkAst } from "./bfcl-checker.ts";
import { BFCL_CATEGORIES, decodeToolCalls, loadCategory, promptTools, type BfclCase, type BfclCategory, type BfclDataError } from "./bfcl-data.ts";
import { spreadSelect } from "./data-files.ts";
import { formatTable, pct, rate, reportBase, tally, type BenchOptions, type CaseRecord, type ReportBase } from "./report.ts";
import { generateTurns, withSystem, type Turn } from "./turns.ts";

export type CategoryScore = { total: number; correct: number; accuracy: number | null };
export type BfclReport = ReportBase & {
  categories: Partial<Record<BfclCategory, CategoryScore>>;
  summary: {
    non_live_simple: number | null; non_live: number | null; live: number | null;
    hallucination: number | null; relevance: number | null; unweighted_mean: number | null;
  };
  /** Why scored cases were wrong (BFCL error types, "decode: …" when the output had no readable calls). */
  error_types: Record<string, number>;
};

const NOTES = [
  "native function calling (BFCL's Qwen FC handler: function docs as the chat template's tools), greedy decoding, single turn",
  "AST categories scored against possible_answer/ like BFCL's ast_checker; irrelevance / live_irrelevance / live_relevance by whether a call decodes",
  "live_multiple, multi_turn, memory and web_search are not in the data; the live group is weighted over live_simple / live_parallel / live_parallel_multiple only",
];

type Scored = { correct: boolean; errorType?: string; error?: string };

/** Scores one generated turn of one case. */
export function scoreBfclTurn(c: BfclCase, text: string): Scored {
  const decoded = decodeToolCalls(text);
  const hasCall = decoded.ok && decoded.calls.length > 0;
  if (c.category === "irrelevance" || c.category === "live_irrelevance")
    return hasCall ? { correct: false, errorType: "irrelevance:called_a_function" } : { correct: true };
  if (c.category === "live_relevance") return hasCall ? { correct: true } : { correct: false, errorType: "relevance:no_function_call" };
  if (!decoded.ok) return { correct: false, errorType: "decode", error: decoded.error };
  if (decoded.calls.length === 0) return { correct: false, errorType: "decode: no tool call" };
  const check = checkAst(c.category, c.docs, decoded.calls, c.expected ?? [], c.language);
  return check.valid ? { correct: true } : { correct: false, errorType: check.errorType, error: check.error };
}

function record(c: BfclCase | BfclDataError, turn: Turn | undefined): CaseRecord & { scored?: Scored } {
  const base = { benchmark: "bfcl", id: c.id, category: c.category };
  if ("invalid" in c) return { ...base, invalid: c.invalid };
  if (turn === undefined || !turn.ok) return { ...base, invalid: turn?.ok === false ? turn.reason : "not run" };
  const scored = scoreBfclTurn(c, turn.text);
  return { ...base, correct: scored.correct, error_type: scored.errorType, error: scored.error, output: turn.text, scored };
}

const mean = (xs: readonly (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === "number");
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

export function summarizeBfcl(categories: Partial<Record<BfclCategory, CategoryScore>>): BfclReport["summary"] {
  const acc = (c: BfclCategory) => categories[c]?.accuracy;
  const nonLiveSimple = mean([acc("simple_python"), acc("simple_java"), acc("simple_javascript")]);
  const live = (["live_simple", "live_parallel", "live_parallel_multiple"] as const).map((c) => categories[c]).filter((s) => s !== undefined && s.total > 0);
  return {
    non_live_simple: nonLiveSimple,
    non_live: mean([nonLiveSimple, acc("multiple"), acc("parallel"), acc("parallel_multiple")]),
    live: rate(live.reduce((a, s) => a + s!.correct, 0), live.reduce((a, s) => a + s!.total, 0)),
    hallucination: mean([acc("irrelevance"), acc("live_irrelevance")]),
    relevance: acc("live_relevance") ?? null,
    unweighted_mean: mean(BFCL_CATEGORIES.map(acc)),
  };
}

export async function runBfcl(policy: Policy, opts: BenchOptions): Promise<BfclReport> {
  const start = performance.now();
  const cases = spreadSelect(BFCL_CATEGORIES.map((c) => loadCategory(opts.dir, c)), opts.maxCases).flat();
  const valid = cases.filter((c): c is BfclCase => !("invalid" in c));
  const conversations = valid.map((c) => ({ messages: withSystem(c.messages, opts.systemPrompt), tools: promptTools(c) }));
  const turns = await generateTurns(policy, conversations, opts, (done, total) => opts.onProgress?.("bfcl", done, total));
  const turnOf = new Map(valid.map((c, i) => [c, turns[i]]));
  const records = cases.map((c) => record(c, "invalid" in c ? undefined : turnOf.get(c)));
  records.forEach(({ scored, ...r }) => opts.onCase?.(r));
  const categories: Partial<Record<BfclCategory, CategoryScore>> = {};
  for (const category of BFCL_CATEGORIES) {
    const scored = records.filter((r) => r.category === category && r.scored !== undefined);
    const correct = scored.filter((r) => r.scored!.correct).length;
    if (cases.some((c) => c.category === category)) categories[category] = { total: scored.length, correct, accuracy: rate(correct, scored.length) };
  }
  return {
    ...reportBase("bfcl", records, start, NOTES),
    categories,
    summary: summarizeBfcl(categories),
    error_types: tally(records.flatMap((r) => (r.scored?.errorType ? [r.scored.errorType] : []))),
  };
}

export function bfclTable(r: BfclReport): string {
  const rows = Object.entries(r.categories).map(([c, s]) => [c, `${s.correct}/${s.total}`, pct(s.accuracy)]);
  const s = r.summary;
  const groups: [string, number | null][] = [
    ["non-live simple", s.non_live_simple], ["non-live (AST)", s.non_live], ["live (AST)", s.live],
    ["hallucination (irrelevance)", s.hallucination], ["relevance", s.relevance], ["unweighted mean", s.unweighted_mean],
  ];
  return formatTable([["BFCL category", "correct", "accuracy"], ...rows, ...groups.map(([name, x]) => [name, "", pct(x)])]);
}
