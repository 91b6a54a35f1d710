/**
 * Counts of a scenario list per split × category (and per domain), for `trirl scenarios
 * summary`. Scenarios without a split are counted under "unsplit".
 */
import { scenarioCategory } from "./category.ts";
import type { Scenario } from "./schema.ts";

export type SplitCounts = Record<string, number>;

export type ScenarioSummary = {
  scenarios: number;
  splits: SplitCounts;
  categories: Record<string, SplitCounts>;
  domains: Record<string, SplitCounts>;
};

function bump(table: Record<string, SplitCounts>, row: string, split: string): void {
  const counts = (table[row] ??= { total: 0 });
  counts[split] = (counts[split] ?? 0) + 1;
  counts.total += 1;
}

export function summarizeScenarios(scenarios: readonly Scenario[]): ScenarioSummary {
  const splits: SplitCounts = {};
  const categories: Record<string, SplitCounts> = {};
  const domains: Record<string, SplitCounts> = {};
  for (const s of scenarios) {
    const split = s.split ?? "unsplit";
    splits[split] = (splits[split] ?? 0) + 1;
    bump(categories, scenarioCategory(s).key, split);
    bump(domains, s.domain ?? "(none)", split);
  }
  const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return { scenarios: scenarios.length, splits, categories: sorted(categories), domains: sorted(domains) };
}
