/**
 * `trirl score` and `trirl scenarios` through the real binary (each spawn costs a second or
 * two, so these are few): the reward table reproduces exactly, and bad input exits non-zero
 * with the file and line named on stderr.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkedScenarios } from "../../src/scenario/corpus/generate.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { summarizeScenarios } from "../../src/scenario/summary.ts";
import { TABLE_CASES, TABLE_SCENARIOS } from "../reward/table-cases.ts";

const dir = mkdtempSync(join(tmpdir(), "trirl-cli-"));
const trirl = (...args: string[]) => execFileSync("node", ["bin/trirl.js", ...args], { encoding: "utf8" });
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const scenarioFile = join(dir, "table.jsonl");
writeFileSync(scenarioFile, jsonl(TABLE_SCENARIOS.map((s) => Scenario.parse(s))));

describe("trirl score", () => {
  it("reproduces the reward table, one line per episode in input order", () => {
    const episodes = join(dir, "episodes.jsonl");
    writeFileSync(episodes, jsonl(TABLE_CASES.map((c, i) => ({ ...(i === 0 ? {} : { episode_id: `ep-${i}` }), scenario_id: c.scenario, messages: c.messages, finish: c.finish }))));
    const rows = trirl("score", "--scenarios", scenarioFile, "--episodes", episodes).trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(TABLE_CASES.length);
    TABLE_CASES.forEach((c, i) => {
      expect(rows[i].episode_id).toBe(i === 0 ? null : `ep-${i}`);
      expect(rows[i].scenario_id).toBe(c.scenario);
      expect(rows[i].total, c.name).toBeCloseTo(c.total, 12);
      for (const [part, value] of Object.entries(c.parts)) expect(rows[i][part], `${c.name}: ${part}`).toBeCloseTo(value, 12);
    });
  });

  it("names the file and line of bad episodes and exits non-zero", () => {
    const episodes = join(dir, "bad-episodes.jsonl");
    const ok = { scenario_id: "bb", messages: [], finish: "stop" };
    writeFileSync(episodes, jsonl([ok, { ...ok, scenario_id: "nope" }, { ...ok, finish: "eos" }]));
    const r = spawnSync("node", ["bin/trirl.js", "score", "--scenarios", scenarioFile, "--episodes", episodes], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${episodes}:3: finish: Invalid option`);
    expect(r.stderr).toContain(`${episodes}:2: scenario_id: no scenario "nope" in the scenario file`);
  });
});

describe("trirl scenarios", () => {
  it("generate writes the built-in corpus and prints its summary", () => {
    const out = join(dir, "corpus.jsonl");
    const printed = JSON.parse(trirl("scenarios", "generate", "--out", out));
    const corpus = checkedScenarios();
    expect(printed).toEqual({ out, ...summarizeScenarios(corpus) });
    expect(readFileSync(out, "utf8")).toBe(jsonl(corpus));
  });

  it("summary counts a file per split × category", () => {
    const printed = JSON.parse(trirl("scenarios", "summary", "--scenarios", scenarioFile));
    expect(printed.scenarios).toBe(TABLE_SCENARIOS.length);
    expect(printed.categories["sensitive/benign+malicious+sensitive"]).toEqual({ total: 1, unsplit: 1 });
  });

  it("validate names the bad line and field, and exits non-zero", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify(Scenario.parse(TABLE_SCENARIOS[0]))}\n{"id": "x", "user": "benign"}\n`);
    const r = spawnSync("node", ["bin/trirl.js", "scenarios", "validate", bad], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${bad}:2: messages: missing (a required field)`);
  });
});
