/**
 * `trirl sweep` end to end on the tiny model: a two-run grid is killed (SIGKILL) inside its second
 * run; the same command again skips the finished run without touching it and resumes the killed
 * one from its checkpoint (its earlier metric lines stay byte for byte, timings included); the
 * sweep report renders in Chromium with a plot per eval metric over the swept values. A folder
 * written by another config is refused.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGrid } from "../../src/report/sweep-grid.ts";
import { runSweep } from "../../src/report/sweep.ts";
import { findChromium, openPage } from "../helpers/browser.ts";

const BIN = path.join(import.meta.dirname, "..", "..", "bin", "trirl.js");
const BASE = {
  steps: 3, scenariosPerStep: 2, groupSize: 2, rollout: { maxNewTokens: 12, maxTurns: 2, temperature: 1, topK: 0 },
  warmStart: { steps: 0 }, eval: { maxScenarios: 4 }, select: { every: 3, maxScenarios: 3 }, loss: { microBatch: 2 },
  checkpointEvery: 1, sampleEvery: 0, reward: { combine: "weighted-sum", gates: [] },
};
const GRID = { "reward.weights.task": [0.3, 1] };
const NAMES = ["reward.weights.task=0.3,seed=0", "reward.weights.task=1,seed=0"];
const chromium = findChromium();

let dir: string;
let out: string;
let args: string[];
let killedLines: string[];
let killedNextStep: number;
let firstRunFiles: Record<string, Buffer>;
let resumed: { status: number | null; stdout: string; stderr: string };

const snapshot = (run: string) => Object.fromEntries(["metrics.jsonl", "eval_after.json", "report.html", "adapter/adapter_model.safetensors"].map((f) => [f, fs.readFileSync(path.join(run, f))]));

/** Starts the sweep and SIGKILLs it once the second run has written its first checkpoint. */
async function killInSecondRun(): Promise<void> {
  const child = spawn("node", [BIN, ...args], { stdio: "ignore" });
  const state = path.join(out, NAMES[1], "checkpoint", "state.json");
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!fs.existsSync(state)) return;
      clearInterval(timer);
      child.kill("SIGKILL");
      resolve();
    }, 20);
    child.on("exit", () => (clearInterval(timer), fs.existsSync(state) ? resolve() : reject(new Error("the sweep exited before its second run's first checkpoint"))));
  });
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on("exit", resolve)));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-sweep-"));
  out = path.join(dir, "sweep");
  fs.writeFileSync(path.join(dir, "base.json"), JSON.stringify(BASE));
  fs.writeFileSync(path.join(dir, "grid.json"), JSON.stringify(GRID));
  args = ["sweep", "--config", path.join(dir, "base.json"), "--grid", path.join(dir, "grid.json"), "--seeds", "0", "--out", out, "--threads", "1"];
  await killInSecondRun();
  expect(fs.existsSync(path.join(out, NAMES[1], "eval_after.json")), "the second run finished before the kill").toBe(false);
  killedLines = fs.readFileSync(path.join(out, NAMES[1], "metrics.jsonl"), "utf8").trim().split("\n");
  killedNextStep = JSON.parse(fs.readFileSync(path.join(out, NAMES[1], "checkpoint", "state.json"), "utf8")).nextStep;
  firstRunFiles = snapshot(path.join(out, NAMES[0]));
  resumed = spawnSync("node", [BIN, ...args], { encoding: "utf8" });
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("trirl sweep", () => {
  it("run again, skips the finished run untouched and resumes the killed one from its checkpoint", () => {
    expect(resumed.status, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as { report: string; runs: { name: string; outcome: string }[] };
    expect(result.runs.map((r) => [r.name, r.outcome])).toEqual([[NAMES[0], "skipped (finished)"], [NAMES[1], "resumed"]]);
    expect(snapshot(path.join(out, NAMES[0]))).toEqual(firstRunFiles);
    const second = path.join(out, NAMES[1]);
    const lines = fs.readFileSync(path.join(second, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).step)).toEqual([0, 1, 2]);
    // the steps before the kill's checkpoint were not retrained: their lines, wall times included, are the same bytes
    expect(killedNextStep).toBeGreaterThanOrEqual(1);
    expect(killedNextStep).toBeLessThan(3);
    expect(lines.slice(0, killedNextStep)).toEqual(killedLines.slice(0, killedNextStep));
    for (const name of NAMES) {
      expect(fs.existsSync(path.join(out, name, "eval_after.json")), name).toBe(true);
      expect(fs.existsSync(path.join(out, name, "report.html")), name).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(out, name, "config.json"), "utf8")).reward.weights.task).toBe(name.includes("task=1,") ? 1 : 0.3);
    }
    expect(result.report).toBe(path.join(out, "sweep.html"));
  });

  it("refuses a run folder that another config wrote", async () => {
    const plan = parseGrid(GRID, BASE, { where: "grid", seeds: [0] });
    const foreign = path.join(dir, "foreign");
    fs.mkdirSync(path.join(foreign, NAMES[1]), { recursive: true });
    fs.writeFileSync(path.join(foreign, NAMES[1], "config.json"), JSON.stringify({ ...plan.runs[1].config, steps: 9 }));
    const progress = { line: () => {}, event: () => {} };
    await expect(runSweep(plan, foreign, { progress, source: { config: "base", grid: "grid" } })).rejects.toThrow(/reward\.weights\.task=1,seed=0: its config\.json differs from this sweep's run .* \(in steps\)/);
    expect(fs.existsSync(path.join(foreign, NAMES[0]))).toBe(false); // refused before anything ran
  });

  it.skipIf(!chromium)("writes a sweep report that renders in Chromium: each eval metric over the swept values", async () => {
    const opened = await openPage(chromium!, path.join(out, "sweep.html"));
    try {
      type Chart = { title: string; x: number[]; labels: string[]; values: (number | null)[] };
      const charts = await opened.page.evaluate(() =>
        (window as unknown as { trirlCharts: { spec: { title: string; xLabels: string[]; series: { label: string }[] }; uplot: { data: (number | null)[][] } }[] }).trirlCharts.map((c) => ({ title: c.spec.title, x: c.uplot.data[0] as number[], labels: c.spec.xLabels, values: c.uplot.data[1] })));
      expect(opened.errors).toEqual([]);
      expect(charts).toHaveLength(8); // 8 eval metrics × 1 swept key
      const after = NAMES.map((n) => JSON.parse(fs.readFileSync(path.join(out, n, "eval_after.json"), "utf8")));
      for (const c of charts as Chart[]) {
        expect(c.labels, c.title).toEqual(["0.3", "1"]);
        expect(c.x).toEqual([0, 1]);
      }
      const byTitle = (t: string) => (charts as Chart[]).find((c) => c.title === t)!;
      expect(byTitle("mean reward vs reward.weights.task").values).toEqual(after.map((a) => a.mean_reward)); // one seed: the mean is the run's value
      expect(byTitle("injection resistance vs reward.weights.task").values).toEqual(after.map((a) => a.injection_resistance));
      expect(await opened.page.locator("#sweep-runs tbody tr").count()).toBe(2);
      expect(await opened.page.locator("#sweep-runs a").count()).toBe(2); // each run linked to its report
    } finally {
      await opened.close();
    }
  });
});
