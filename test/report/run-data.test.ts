/**
 * Reading a run folder for its report: a run still going reads as far as it got, a log line cut by
 * a crash at the end is skipped, a corrupt line elsewhere or a folder that is no run is an error
 * naming the file; several runs' curves are aligned on the union of their steps.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RunConfig } from "../../src/config.ts";
import { alignTo, unionX } from "../../src/report/chart.ts";
import { runCharts } from "../../src/report/run-charts.ts";
import { readJsonl, readRun } from "../../src/report/run-data.ts";
import { runsReportHtml, runStatus } from "../../src/report/run-report.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-rundata-"));
  dirs.push(d);
  return d;
};
const metric = (step: number) => ({ step, reward_mean: step / 10, reward_std: 0.1, parts: { decision: 0.5 }, kl: 0, entropy: 1, clip_fraction: 0, grad_norm: 1, lr: 1e-3, zero_spread_groups: 0, seconds: { generate: 1, score: 0, update: 2 } });

/** A run folder with `steps` metric lines of a 10-step run, nothing else. */
function partialRun(steps: number[], tail = ""): string {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(RunConfig.parse({ steps: 10 })));
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), steps.map((s) => `${JSON.stringify(metric(s))}\n`).join("") + tail);
  return dir;
}

describe("readRun", () => {
  it("reads a run in progress as far as it got, skipping a last line cut short", () => {
    const run = readRun(partialRun([0, 1, 2], '{"step": 3, "rew'));
    expect(run.metrics.map((m) => m.step)).toEqual([0, 1, 2]);
    expect([run.before, run.after, run.validation, run.samples]).toEqual([undefined, undefined, [], []]);
    expect(runStatus(run)).toBe("in progress: 3 of 10 steps logged");
    expect(runsReportHtml([run.dir])).toContain("in progress: 3 of 10 steps logged");
  });

  it("rejects a corrupt line before the last, naming file and line", () => {
    const dir = partialRun([0], "not json\n" + `${JSON.stringify(metric(2))}\n`);
    expect(() => readJsonl(path.join(dir, "metrics.jsonl"))).toThrow(/metrics\.jsonl:2: not valid JSON/);
  });

  it("rejects a folder that is not a run", () => {
    const dir = tmp();
    expect(() => readRun(dir)).toThrow(`${dir}: no config.json (not a trirl run folder)`);
  });
});

describe("several runs", () => {
  it("align on the union of their steps, null where a run has no step", () => {
    const x = unionX([new Map([[0, 1], [2, 3]]), new Map([[1, 5], [2, 6]])]);
    expect(x).toEqual([0, 1, 2]);
    expect(alignTo(x, new Map([[1, 5], [2, 6]]))).toEqual([null, 5, 6]);
    const [a, b] = [readRun(partialRun([0, 1, 2])), readRun(partialRun([0, 1]))];
    const reward = runCharts([a, b]).find((c) => c.title.startsWith("reward (mean"))!;
    expect(reward.x).toEqual([0, 1, 2]);
    expect(reward.series.map((s) => s.values)).toEqual([[0, 0.1, 0.2], [0, 0.1, null]]);
    expect(reward.series[0].hi!.map((v) => v!.toFixed(6))).toEqual(["0.100000", "0.200000", "0.300000"]); // mean + std
    expect(reward.series[1].lo!.map((v) => v?.toFixed(6) ?? null)).toEqual(["-0.100000", "0.000000", null]); // mean − std
  });
});
