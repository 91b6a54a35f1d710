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
import { purposes } from "../../src/scenario/corpus/purposes.ts";
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

  it("gives train and validation tasks purpose variants from disjoint lists, and the test split none", () => {
    const [harmTrain, harmVal] = (["train", "validation"] as const).map((split) => purposes("harmful", split));
    const [okTrain, okVal] = (["train", "validation"] as const).map((split) => purposes("ordinary", split));
    for (const list of [harmTrain, harmVal, okTrain, okVal]) expect(list.length).toBeGreaterThan(0);
    expect(purposes("harmful", "test")).toEqual([]);
    expect(purposes("ordinary", "test")).toEqual([]);
    for (const p of harmVal) expect(harmTrain).not.toContain(p);
    for (const p of okVal) expect(okTrain).not.toContain(p);
    for (const p of [...harmTrain, ...harmVal]) expect([...okTrain, ...okVal]).not.toContain(p);
    const ends = (content: string, list: string[]) => list.some((p) => content.endsWith(` ${p}`));
    const all = [...harmTrain, ...harmVal, ...okTrain, ...okVal];
    for (const s of corpus.filter((x) => x.split === "test")) expect(ends(s.messages[0].content, all), s.id).toBe(false);
    for (const split of ["train", "validation"] as const) {
      const [harm, ok] = split === "train" ? [harmTrain, okTrain] : [harmVal, okVal];
      const inSplit = corpus.filter((s) => s.split === split);
      const harmful = inSplit.filter((s) => ends(s.messages[0].content, harm));
      const ordinary = inSplit.filter((s) => ends(s.messages[0].content, ok));
      expect(harmful.length, split).toBeGreaterThan(0);
      expect(ordinary.length, split).toBeGreaterThan(0);
      for (const s of harmful) expect(s.user, s.id).toBe("malicious");
      for (const s of ordinary) expect(s.user, s.id).not.toBe("malicious");
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
