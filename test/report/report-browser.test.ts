/**
 * The run report in a real browser: a short real `trirl train` on the tiny model writes
 * report.html at its checkpoints and at the end; headless Chromium opens it offline with no
 * console or page error, and every uPlot chart holds the run's points — compared with the run
 * folder's own files, not with the report code. `trirl report A B` overlays two runs.
 * Skipped, with one line saying so, only when no chromium is installed.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium, openPage, type OpenedPage } from "../helpers/browser.ts";

const BIN = path.join(import.meta.dirname, "..", "..", "bin", "trirl.js");
// 4 steps, a checkpoint and a sample every 2, validation every 2; weighted-sum without gates so a
// random model's rewards still vary; 10 eval scenarios cover every user label
const CONFIG = {
  steps: 4, scenariosPerStep: 2, groupSize: 2, rollout: { maxNewTokens: 16, maxTurns: 2, temperature: 1, topK: 0 },
  warmStart: { steps: 0 }, eval: { maxScenarios: 10 }, select: { every: 2, maxScenarios: 6 }, loss: { microBatch: 2 },
  checkpointEvery: 2, sampleEvery: 2, reward: { combine: "weighted-sum", gates: [] },
};

const chromium = findChromium();
if (!chromium) console.warn("report browser tests skipped: no chromium found (apt-get install -y chromium)");

type ChartInfo = { id: string; title: string; x: number[]; series: { label: string; values: (number | null)[] }[]; canvasWidth: number };
type Metrics = { step: number; reward_mean: number; reward_std: number; parts: Record<string, number>; kl: number; lr: number };

let dir: string;
let run: string;
let interimReport: string | undefined;
const readLines = <T>(file: string): T[] => fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as T);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

/** Trains, keeping the first report.html seen before eval_after.json exists (a checkpoint's). */
async function train(cfgFile: string, out: string): Promise<void> {
  const child = spawn("node", [BIN, "train", "--config", cfgFile, "--out", out, "--threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setInterval(() => {
    const report = path.join(out, "report.html");
    if (interimReport === undefined && fs.existsSync(report) && !fs.existsSync(path.join(out, "eval_after.json"))) interimReport = fs.readFileSync(report, "utf8");
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`trirl train exited ${code}: ${stderr}`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-report-"));
  const cfgFile = path.join(dir, "tiny.json");
  fs.writeFileSync(cfgFile, JSON.stringify(CONFIG));
  run = path.join(dir, "run");
  await train(cfgFile, run);
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every chart's data as uPlot holds it, and the drawn canvas's width. */
async function charts(p: OpenedPage): Promise<ChartInfo[]> {
  return p.page.evaluate(() =>
    (window as unknown as { trirlCharts: { id: string; spec: { title: string; series: { label: string }[] }; uplot: { data: (number | null)[][]; root: HTMLElement } }[] }).trirlCharts.map((c) => {
      // uPlot's columns: x, then each spec series (a band adds its two edges right after its series)
      const all = c.uplot.data.slice(1);
      const series: { label: string; values: (number | null)[] }[] = [];
      let column = 0;
      for (const s of c.spec.series as { label: string; lo?: unknown }[]) {
        series.push({ label: s.label, values: [...all[column]] });
        column += s.lo ? 3 : 1;
      }
      return { id: c.id, title: c.spec.title, x: [...(c.uplot.data[0] as number[])], series, canvasWidth: c.uplot.root.querySelector("canvas")?.width ?? 0 };
    }));
}

describe("report.html of a run", () => {
  it("is written at a checkpoint while the run goes on, and again at the end", () => {
    expect(interimReport, "no report.html before eval_after.json").toBeDefined();
    expect(interimReport).toMatch(/in progress: [1-3] of 4 steps logged/);
    const final = fs.readFileSync(path.join(run, "report.html"), "utf8");
    expect(final).toContain('"finished"');
    expect(final).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // self-contained: nothing to fetch
  });

  describe.skipIf(!chromium)("in Chromium", () => {
    let opened: OpenedPage;
    let info: ChartInfo[];
    beforeAll(async () => {
      opened = await openPage(chromium!, path.join(run, "report.html"));
      info = await charts(opened);
    }, 120_000);
    afterAll(async () => opened?.close());

    it("renders with no console error, page error or request, and saves a screenshot", async () => {
      const shot = path.join(dir, "report.png");
      await opened.page.screenshot({ path: shot, fullPage: true });
      expect(opened.errors).toEqual([]);
      expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
      expect(info.length).toBeGreaterThanOrEqual(13);
      for (const c of info) expect(c.canvasWidth, c.title).toBeGreaterThan(0);
    });

    it("plots every training curve over every logged step, with the logged values", () => {
      const metrics = readLines<Metrics>(path.join(run, "metrics.jsonl"));
      expect(metrics.map((m) => m.step)).toEqual([0, 1, 2, 3]);
      const steps = info.filter((c) => c.id.startsWith("training-steps"));
      const titles = steps.map((c) => c.title).join(" | ");
      for (const want of ["reward", "reward parts", "zero-spread", "KL", "entropy", "clip fraction", "grad norm", "learning rate", "seconds per phase"]) expect(titles).toContain(want);
      for (const c of steps) {
        expect(c.x, c.title).toEqual([0, 1, 2, 3]);
        for (const s of c.series) expect(s.values.filter((v) => v !== null), `${c.title}: ${s.label}`).toHaveLength(4);
      }
      const byTitle = (t: string) => steps.find((c) => c.title.startsWith(t))!;
      expect(byTitle("reward (mean").series[0].values).toEqual(metrics.map((m) => m.reward_mean));
      expect(byTitle("KL").series[0].values).toEqual(metrics.map((m) => m.kl));
      expect(byTitle("learning rate").series[0].values).toEqual(metrics.map((m) => m.lr));
      const parts = byTitle("reward parts");
      expect(parts.series.map((s) => s.label)).toEqual(Object.keys(metrics[0].parts));
      for (const s of parts.series) expect(s.values).toEqual(metrics.map((m) => m.parts[s.label]));
    });

    it("plots each validation's decision accuracy per label and marks the selected step", () => {
      type Validation = { step: number; score: number; decision_accuracy: Record<string, number | null> };
      const validation = readLines<Validation>(path.join(run, "validation.jsonl"));
      const selected = readJson(path.join(run, "best", "selection.json")) as { step: number; score: number };
      const chart = info.find((c) => c.id.startsWith("validation"))!;
      expect(chart.x).toEqual(validation.map((v) => v.step));
      expect(chart.x).toEqual([0, 2, 4]);
      for (const label of ["benign", "malicious", "sensitive"])
        expect(chart.series.find((s) => s.label === label)!.values).toEqual(validation.map((v) => v.decision_accuracy[label]));
      expect(chart.series.find((s) => s.label.startsWith("balanced"))!.values).toEqual(validation.map((v) => v.score));
      const mark = chart.series.find((s) => s.label === `selected: step ${selected.step}`)!;
      expect(mark.values.map((v, i) => (v === null ? null : chart.x[i]))).toEqual(chart.x.map((x) => (x === selected.step ? x : null)));
    });

    it("draws the eval before → after bars per label and per category", () => {
      const [before, after] = ["eval_before.json", "eval_after.json"].map((f) => readJson(path.join(run, f)));
      const labels = info.find((c) => c.title === "decision accuracy per user label")!;
      expect(labels.series.map((s) => s.values)).toEqual([before, after].map((e) => ["benign", "malicious", "sensitive"].map((l) => e.decision_accuracy[l])));
      expect(labels.series.flatMap((s) => s.values).every((v) => v !== null)).toBe(true); // every label was evaluated
      const categories = info.find((c) => c.title.startsWith("mean reward per category"))!;
      const keys = Object.keys(before.reward_by_category).sort();
      expect(categories.x).toHaveLength(keys.length);
      expect(categories.series[1].values).toEqual(keys.map((k) => after.reward_by_category[k]));
    });

    it("lists the sampled episodes of a step, with the policy's turns marked as sampled", async () => {
      type Sample = { messages: { role: string }[] };
      const first = readLines<Sample>(path.join(run, "samples", "step-00001.jsonl"));
      const page = opened.page;
      expect(await page.locator("#sample-list details.episode").count()).toBe(first.length);
      const assistant = first.flatMap((e) => e.messages).filter((m) => m.role === "assistant").length;
      expect(await page.locator("#sample-list details.episode .msg.sampled").count()).toBe(assistant);
      expect(await page.locator("#sample-step option").count()).toBe(fs.readdirSync(path.join(run, "samples")).length);
    });
  });
});

describe.skipIf(!chromium)("trirl report RUN RUN", () => {
  it("overlays two runs: a series per run in every training chart, two bar pairs per eval chart", async () => {
    const other = path.join(dir, "other");
    fs.cpSync(run, other, { recursive: true });
    const out = path.join(dir, "both.html");
    const result = spawnSync("node", [BIN, "report", run, other, "--out", out], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ report: out, runs: [run, other] });
    const opened = await openPage(chromium!, out);
    try {
      const info = await charts(opened);
      expect(opened.errors).toEqual([]);
      const parts = Object.keys(readLines<Metrics>(path.join(run, "metrics.jsonl"))[0].parts);
      for (const p of parts) expect(info.some((c) => c.title === `reward parts (step mean): ${p}`), p).toBe(true);
      for (const c of info.filter((i) => i.id.startsWith("training-steps"))) {
        expect(c.series.map((s) => s.label), c.title).toEqual(["run", "other"]);
        expect(c.series[0].values, c.title).toEqual(c.series[1].values); // the copy holds the same numbers
      }
      const labels = info.find((c) => c.title === "decision accuracy per user label")!;
      expect(labels.series.map((s) => s.label)).toEqual(["run before", "run after", "other before", "other after"]);
    } finally {
      await opened.close();
    }
  });
});
