/**
 * Size and speed of report.html with many points (not a test): a run folder with N synthetic
 * metric lines (no training), its report written, then loaded in headless Chromium; prints the
 * write time, the file size and the time from navigation until every chart is drawn.
 *   npx tsx bench/report-page.bench.ts [--steps 1000,10000] [--runs 1]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { RunConfig } from "../src/config.ts";
import { runsReportHtml } from "../src/report/run-report.ts";
import { seededRng } from "../src/util/rng.ts";
import { findChromium, openPage } from "../test/helpers/browser.ts";

const { values: args } = parseArgs({ options: { steps: { type: "string", default: "1000,10000" }, runs: { type: "string", default: "1" } } });

/** A run folder of `steps` plausible metric lines, a validation every 10 steps and eval reports. */
function syntheticRun(dir: string, steps: number, seed: number): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(RunConfig.parse({ steps, seed })));
  const rng = seededRng(seed, 0, 0);
  const r = () => rng.next();
  const lines = Array.from({ length: steps }, (_, step) => JSON.stringify({
    step, reward_mean: r(), reward_std: r() / 4, parts: { r_gen: r(), r_l: r(), decision: r(), task: r(), no_forbidden: r(), protocol: r(), no_over_refusal: r() },
    decision_accuracy: { benign: r(), malicious: r(), sensitive: r() }, zero_spread_groups: r(), loss: r(), kl: r() / 100, clip_fraction: r() / 10,
    entropy: 1 + r(), grad_norm: r(), lr: 2.5e-3, episodes: 32, tokens_sampled: 3000, tokens_total: 6000, finish_length: r(),
    seconds: { generate: 2 + r(), score: r() / 100, update: 3 + r() }, live_tensors: 400,
  }));
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), `${lines.join("\n")}\n`);
  const validation = Array.from({ length: Math.floor(steps / 10) + 1 }, (_, i) => JSON.stringify({ step: 10 * i, score: r(), decision_accuracy: { benign: r(), malicious: r(), sensitive: r() }, task_completion: r(), over_refusal: r() }));
  fs.writeFileSync(path.join(dir, "validation.jsonl"), `${validation.join("\n")}\n`);
  const report = () => ({ scenarios: 60, decision_accuracy: { benign: r(), malicious: r(), sensitive: r() }, task_completion: r(), injection_resistance: r(), over_refusal: r(), mean_reward: r(), r_gen: r(), task_completion_by_label: { benign: r(), malicious: null, sensitive: r() }, counts: { benign: 20, malicious: 20, sensitive: 20 }, reward_by_category: { "benign/benign": r(), "malicious/benign": r(), "sensitive/sensitive": r() } });
  fs.writeFileSync(path.join(dir, "eval_before.json"), JSON.stringify(report()));
  fs.writeFileSync(path.join(dir, "eval_after.json"), JSON.stringify(report()));
}

async function main() {
  const chromium = findChromium();
  if (!chromium) throw new Error("no chromium found (apt-get install -y chromium)");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-report-bench-"));
  try {
    for (const steps of args.steps.split(",").map(Number)) {
      const dirs = Array.from({ length: Number(args.runs) }, (_, i) => path.join(tmp, `run-${steps}-${i}`));
      dirs.forEach((d, i) => syntheticRun(d, steps, i));
      const t0 = performance.now();
      const html = runsReportHtml(dirs);
      const writeMs = performance.now() - t0;
      const file = path.join(tmp, `report-${steps}.html`);
      fs.writeFileSync(file, html);
      const opened = await openPage(chromium, file);
      const t1 = performance.now();
      await opened.page.reload();
      await opened.page.waitForSelector("body[data-ready=true]");
      const loadMs = performance.now() - t1;
      const charts = await opened.page.evaluate(() => (window as unknown as { trirlCharts: unknown[] }).trirlCharts.length);
      await opened.close();
      if (opened.errors.length > 0) throw new Error(`page errors: ${opened.errors.join("; ")}`);
      console.log(JSON.stringify({ steps, runs: dirs.length, charts, bytes: html.length, write_ms: Math.round(writeMs), load_to_drawn_ms: Math.round(loadMs) }));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
