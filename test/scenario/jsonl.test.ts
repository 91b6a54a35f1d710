/** JSONL load/save: round trip, and bad lines named by file, line and field without losing the rest. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenarios, parseScenarioJsonl, saveScenarios } from "../../src/scenario/jsonl.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { TABLE_SCENARIOS } from "../reward/table-cases.ts";

const dir = mkdtempSync(join(tmpdir(), "trirl-jsonl-"));
const good = TABLE_SCENARIOS.map((s) => Scenario.parse(s));

describe("scenario JSONL", () => {
  it("round-trips through save and load", () => {
    const path = join(dir, "good.jsonl");
    saveScenarios(path, good);
    expect(loadScenarios(path)).toEqual(good);
  });

  it("reports each bad line with file, line and field, and keeps the good lines", () => {
    const lines = [
      JSON.stringify(good[0]),
      "",
      "{not json",
      JSON.stringify({ ...good[1], expected: { ...good[1].expected, decision: "maybe" } }),
      JSON.stringify(good[2]),
      JSON.stringify({ ...good[3], id: good[0].id }),
    ];
    const { items, errors } = parseScenarioJsonl(lines.join("\n"), "s.jsonl");
    expect(items.map((i) => i.line)).toEqual([1, 5, 6]);
    expect(errors[0]).toMatch(/^s\.jsonl:3: not valid JSON/);
    expect(errors[1]).toMatch(/^s\.jsonl:4: expected\.decision: Invalid option/);
    expect(errors[2]).toBe(`s.jsonl:6: id: "${good[0].id}" already used on line 1`);
    expect(errors).toHaveLength(3);
  });

  it("loadScenarios throws one error listing every problem, with a hint", () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, `${JSON.stringify(good[0])}\n${JSON.stringify({ ...good[1], tools: [{ ...good[1].tools[0], name: "bad name" }] })}\n[]\n`);
    expect(() => loadScenarios(path)).toThrow(
      [
        `${path}: 3 problem(s) in the scenario file:`,
        `  ${path}:2: tools[0].name: a tool name is a letter or _ then up to 63 of [A-Za-z0-9_.-]`,
        `  ${path}:2: expected.required_calls[0].name: "get_balance" is not one of the scenario's tools`,
        `  ${path}:3: (line): Invalid input: expected object, received array`,
        '---> HINT: see "Scenario format" in the README',
      ].join("\n"),
    );
  });

  it("an empty file is an error that says so, not an empty list", () => {
    const path = join(dir, "empty.jsonl");
    writeFileSync(path, "\n  \n");
    expect(() => loadScenarios(path)).toThrow(`${path}: no scenarios: the file has no non-blank line`);
  });

  it("a field that is absent is named missing, not by the values it could take", () => {
    const { decision: _d, ...noDecision } = good[1].expected;
    const { errors } = parseScenarioJsonl(JSON.stringify({ ...good[1], expected: noDecision }), "s.jsonl");
    expect(errors).toEqual(["s.jsonl:1: expected.decision: missing (a required field)"]);
  });

  it("names the path when the file cannot be read", () => {
    expect(() => loadScenarios(join(dir, "missing.jsonl"))).toThrow(/cannot read .*missing\.jsonl/);
  });
});
