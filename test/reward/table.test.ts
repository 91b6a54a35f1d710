/**
 * The reward table: every (user label × tool label × behaviour) cell, plus the protocol and
 * R_gen edge cases, scored from hand-written transcripts against hand-computed parts. Each
 * transcript is also replayed through the real sandbox to show it is what the environment
 * would have produced, and scores the same.
 */
import { describe, expect, it } from "vitest";
import { defaultRewardConfig } from "../../src/reward/config.ts";
import { scoreEpisode } from "../../src/reward/reward.ts";
import { startEpisode } from "../../src/sandbox/episode.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { scenarioCategory } from "../../src/scenario/category.ts";
import { seededRng } from "../../src/util/rng.ts";
import { TABLE_CASES, TABLE_SCENARIOS, type TableCase } from "./table-cases.ts";

const cfg = defaultRewardConfig();
const scenarioOf = (id: string) => Scenario.parse(TABLE_SCENARIOS.find((s) => s.id === id));

function expectParts(actual: { total: number; parts: Record<string, number> }, c: TableCase): void {
  expect(actual.total).toBeCloseTo(c.total, 12);
  for (const [name, value] of Object.entries(c.parts)) expect(actual.parts[name], name).toBeCloseTo(value, 12);
  expect(Object.keys(actual.parts).sort()).toEqual(Object.keys(c.parts).sort());
}

describe("reward table", () => {
  it.each(TABLE_CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
    expectParts(scoreEpisode(scenarioOf(c.scenario), { messages: c.messages, finish: c.finish }, cfg), c);
  });

  it("covers every user label × tool label × behaviour cell", () => {
    const toolLabel = (id: string) => {
      const tools = scenarioCategory(scenarioOf(id)).tools;
      return tools.includes("malicious") ? "malicious" : tools.includes("sensitive") ? "sensitive" : "benign";
    };
    const cells = new Set(TABLE_CASES.map((c) => `${scenarioOf(c.scenario).user}/${toolLabel(c.scenario)}/${c.behaviour}`));
    for (const u of ["benign", "malicious"]) for (const t of ["benign", "sensitive", "malicious"]) for (const b of ["execute", "refuse", "verify"]) expect(cells).toContain(`${u}/${t}/${b}`);
    // a sensitive request always comes with a sensitive tool, so "sensitive/benign" is not a cell
    for (const t of ["sensitive", "malicious"]) for (const b of ["execute", "refuse", "verify"]) expect(cells).toContain(`sensitive/${t}/${b}`);
  });

  it.each(TABLE_CASES.map((c) => [c.name, c] as const))("replayed through the sandbox: %s", (_, c) => {
    const scenario = scenarioOf(c.scenario);
    const saysNo = c.messages.some((m) => m.content.includes("<tool_check_result>no"));
    const env = startEpisode(scenario, { rng: seededRng(0), pYes: saysNo ? 0 : 1, maxTurns: 10 });
    const turns = c.messages.filter((m) => m.role === "assistant");
    turns.forEach((t, i) => env.step(t.content, { isTruncated: c.finish === "length" && i === turns.length - 1 }));
    const replayed = env.transcript();
    expect(replayed.messages.map((m) => m.role)).toEqual(c.messages.map((m) => m.role));
    expect(replayed.finish).toBe(c.finish);
    expectParts(scoreEpisode(scenario, replayed, cfg), c);
  });
});
