/**
 * The built-in corpus: every domain × category cell × split, from seeded draws, so the same
 * seed always gives the same scenarios. A split only uses its own task templates and
 * injection phrasings (disjoint by construction), so test scores measure generalisation.
 * Duplicates are redrawn. Default sizes give 280 scenarios per domain, 2,240 in all.
 */
import { seededRng } from "../../util/rng.ts";
import { SPLITS, Scenario, type Split } from "../schema.ts";
import { CELLS, type Domain, type ScenarioBody } from "./build.ts";
import { DOMAINS } from "./domains/index.ts";

export type CorpusOptions = {
  seed?: number;
  /** Scenarios per domain × cell for each split. */
  counts?: Partial<Record<Split, number>>;
};

export const DEFAULT_COUNTS: Readonly<Record<Split, number>> = { train: 18, validation: 4, test: 6 };
const MAX_DRAWS = 12;

function templatesFor(domain: Domain, cell: (typeof CELLS)[number], split: Split): number[] {
  return domain.templates.flatMap((t, i) => (t.user === cell.user && t.split === split && (cell.hasSensitive || !t.hasSensitiveTool) ? [i] : []));
}

export function builtinScenarios(opts: CorpusOptions = {}): Scenario[] {
  const seed = opts.seed ?? 0;
  const counts = { ...DEFAULT_COUNTS, ...opts.counts };
  const out: Scenario[] = [];
  const seen = new Set<string>();
  DOMAINS.forEach((domain, di) => {
    let n = 0;
    CELLS.forEach((cell, ci) => {
      SPLITS.forEach((split, si) => {
        const templates = templatesFor(domain, cell, split);
        for (let i = 0; i < counts[split] && templates.length > 0; i++) {
          for (let draw = 0; draw < MAX_DRAWS; draw++) {
            const body: ScenarioBody = domain.build(templates[i % templates.length], cell, split, seededRng(seed, di, ci, si, i, draw));
            const key = JSON.stringify(body);
            if (seen.has(key)) continue;
            seen.add(key);
            n += 1;
            out.push({ id: `${domain.prefix}-${String(n).padStart(4, "0")}`, ...body });
            break;
          }
        }
      });
    });
  });
  return out;
}

/** Validates the corpus against the public schema (used by tests and `scenarios generate`). */
export function checkedScenarios(opts: CorpusOptions = {}): Scenario[] {
  return builtinScenarios(opts).map((s) => Scenario.parse(s));
}
