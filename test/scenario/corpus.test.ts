/**
 * The built-in corpus: size, coverage of every category × split, determinism, split-disjoint
 * templates and injection phrasings, prompt budgets, and full reward for the reference agent.
 */
import { describe, expect, it } from "vitest";
import { defaultRewardConfig } from "../../src/reward/config.ts";
import { scoreEpisode } from "../../src/reward/reward.ts";
import { scriptedEpisode } from "../../src/sandbox/scripted-agent.ts";
import { scenarioCategory } from "../../src/scenario/category.ts";
import { DOMAINS } from "../../src/scenario/corpus/domains/index.ts";
import { builtinScenarios, checkedScenarios } from "../../src/scenario/corpus/generate.ts";
import { INJECTION_STYLES, injectionPhrasings } from "../../src/scenario/corpus/injections.ts";
import { SPLITS } from "../../src/scenario/schema.ts";
import { summarizeScenarios } from "../../src/scenario/summary.ts";
import { seededRng } from "../../src/util/rng.ts";

const corpus = checkedScenarios();
const DECISION = { benign: "execute", malicious: "refuse", sensitive: "verify" };

describe("built-in corpus", () => {
  it("has at least 2,000 distinct scenarios over at least 8 domains", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
    expect(new Set(corpus.map(({ id: _, ...body }) => JSON.stringify(body))).size).toBe(corpus.length);
    expect(new Set(corpus.map((s) => s.domain)).size).toBeGreaterThanOrEqual(8);
  });

  it("covers every sensible user label × tool labels category in every split", () => {
    const { categories } = summarizeScenarios(corpus);
    expect(Object.keys(categories)).toEqual([
      "benign/benign", "benign/benign+malicious", "benign/benign+malicious+sensitive", "benign/benign+sensitive",
      "malicious/benign", "malicious/benign+malicious", "malicious/benign+malicious+sensitive", "malicious/benign+sensitive",
      "sensitive/benign+malicious+sensitive", "sensitive/benign+sensitive",
    ]);
    for (const counts of Object.values(categories)) for (const split of SPLITS) expect(counts[split]).toBeGreaterThan(0);
  });

  it("labels each scenario consistently: the user label decides the expected decision", () => {
    for (const s of corpus) {
      expect(s.expected.decision).toBe(DECISION[s.user]);
      if (s.user === "sensitive") expect(scenarioCategory(s).tools).toContain("sensitive");
    }
  });

  it("is deterministic in its seed", () => {
    const small = { counts: { train: 1, validation: 1, test: 1 } };
    expect(builtinScenarios({ ...small, seed: 4 })).toEqual(builtinScenarios({ ...small, seed: 4 }));
    expect(builtinScenarios({ ...small, seed: 4 })).not.toEqual(builtinScenarios({ ...small, seed: 5 }));
  });

  it("builds splits from disjoint templates, phrasings and injection wordings", () => {
    for (const d of DOMAINS) {
      const bySplit = SPLITS.map((split) => new Set(d.templates.filter((t) => t.split === split).flatMap((t) => t.phrasings)));
      for (const [i, a] of bySplit.entries()) for (const b of bySplit.slice(i + 1)) for (const p of a) expect(b.has(p), `${d.name}: "${p}"`).toBe(false);
    }
    const prompts = (split: string) => new Set(corpus.filter((s) => s.split === split).map((s) => s.messages[0].content));
    const train = prompts("train");
    for (const p of [...prompts("validation"), ...prompts("test")]) expect(train.has(p)).toBe(false);
    for (const style of INJECTION_STYLES) {
      const [tr, va, te] = SPLITS.map((split) => injectionPhrasings(style, split));
      for (const p of tr) expect([...va, ...te]).not.toContain(p);
      expect(va.filter((p) => te.includes(p))).toEqual([]);
    }
  });

  it("uses every injection style in every split", () => {
    for (const split of SPLITS) {
      const outputs = corpus.filter((s) => s.split === split).map((s) => JSON.stringify([s.tools.filter((t) => t.class === "malicious"), s.world]));
      for (const style of INJECTION_STYLES) {
        const heads = injectionPhrasings(style, split).map((p) => p.split("{action}")[0]);
        expect(outputs.some((o) => heads.some((h) => o.includes(JSON.stringify(h).slice(1, -1)))), `${style}/${split}`).toBe(true);
      }
    }
  });

  it("keeps prompts small: at most 4 tools, one-sentence descriptions, short requests", () => {
    for (const s of corpus) {
      expect(s.tools.length).toBeLessThanOrEqual(4);
      for (const t of s.tools) expect(t.description).toMatch(/^[^.]{1,80}\.$/);
      expect(s.messages[0].content.length).toBeLessThanOrEqual(160);
    }
  });

  it("gives the reference agent full reward on every scenario, for both check answers", () => {
    const cfg = defaultRewardConfig();
    const failures: string[] = [];
    corpus.forEach((s, i) => {
      for (const pYes of [0, 1]) {
        const record = scriptedEpisode(s, s.expected.decision, { rng: seededRng(9, i), pYes, maxTurns: 6 });
        if (scoreEpisode(s, record, cfg).total !== 1) failures.push(`${s.id} pYes=${pYes}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
