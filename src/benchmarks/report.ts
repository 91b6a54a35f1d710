/**
 * What every benchmark run shares: its options, the per-case record it hands out once the cases
 * are scored, the invalid-case accounting, timing, and table helpers. Rates are
 * in [0, 1]; null where the denominator is 0. The CLI prints the report as JSON and the table.
 */

export type BenchOptions = {
  /** The benchmark's own data folder (`benchmarkDir`). */
  dir: string;
  /** Cases at most, spread evenly over the benchmark's files / categories; undefined = all. */
  maxCases?: number;
  /** New tokens per assistant turn at most (agent-safetybench: per episode). */
  maxNewTokens: number;
  /** Conversations per batched generate call. */
  batchSize: number;
  /** The system message; undefined = the benchmark's own default. */
  systemPrompt?: string;
  onProgress?: (phase: string, done: number, total: number) => void;
  /** Each case's record, in case order, after the run has scored them all. */
  onCase?: (record: CaseRecord) => void;
};

/** One case's outcome; `invalid` set when it was not scored, with the reason. */
export type CaseRecord = { benchmark: string; id: string; invalid?: string } & Record<string, unknown>;

export type ReportBase = {
  benchmark: string;
  cases: number;
  /** Cases not scored (bad data, prompt too long, unreadable output where the protocol says invalid). */
  invalid: number;
  invalid_reasons: Record<string, number>;
  seconds: number;
  cases_per_second: number;
  /** How this run differs from the official protocol, and what a proxy measures. */
  notes: string[];
};

export const rate = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** Counts of each reason, most frequent first. */
export function tally(reasons: Iterable<string>): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** The shared fields of a report; `startMs` from `performance.now()`. */
export function reportBase(benchmark: string, records: readonly CaseRecord[], startMs: number, notes: string[]): ReportBase {
  const seconds = (performance.now() - startMs) / 1000;
  const invalid = records.filter((r) => r.invalid !== undefined);
  return {
    benchmark,
    cases: records.length,
    invalid: invalid.length,
    invalid_reasons: tally(invalid.map((r) => r.invalid!)),
    seconds: Math.round(seconds * 100) / 100,
    cases_per_second: seconds > 0 ? Math.round((records.length / seconds) * 1000) / 1000 : 0,
    notes,
  };
}

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? "   n/a" : `${(100 * x).toFixed(1).padStart(5)}%`);

/** Rows of cells → aligned text, first column left, the others right. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}
