/** Which scenarios an eval sees: `stratified` spreads a small budget over categories and domains. */
import { describe, expect, it } from "vitest";
import { stratified } from "../../src/rl/evaluate.ts";
import { builtinScenarios } from "../../src/scenario/corpus/generate.ts";
import { scenarioCategory } from "../../src/scenario/category.ts";

const test = builtinScenarios({ seed: 0 }).filter((s) => s.split === "test");
const count = <T>(xs: readonly T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());

describe("stratified", () => {
  it("gives 60 test scenarios 6 per category and every domain at least 6 times", () => {
    const picked = stratified(test, 60);
    expect(picked).toHaveLength(60);
    expect(new Set(picked.map((s) => s.id)).size).toBe(60);
    const categories = count(picked.map((s) => scenarioCategory(s).key));
    expect(categories.size).toBe(10);
    for (const n of categories.values()) expect(n).toBe(6);
    const domains = count(picked.map((s) => s.domain));
    expect(domains.size).toBe(8);
    for (const n of domains.values()) expect(n).toBeGreaterThanOrEqual(6);
  });

  it("returns every scenario once when the budget exceeds the set", () => {
    const picked = stratified(test.slice(0, 30), 100);
    expect(picked.map((s) => s.id).sort()).toEqual(test.slice(0, 30).map((s) => s.id).sort());
  });
});
