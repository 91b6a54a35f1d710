/**
 * The three benchmarks end to end on the tiny model with a few cases each (the real data, skipped
 * with a one-line message when ../shared/benchmarks is absent), a context too short for any prompt
 * (every case invalid, nothing thrown), and the command line: JSON on stdout, per-case lines, and
 * the error naming where the data was looked for.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAsb } from "../../src/benchmarks/asb.ts";
import { runBfcl } from "../../src/benchmarks/bfcl.ts";
import { benchmarkDir, DEFAULT_DATA_DIR } from "../../src/benchmarks/data-files.ts";
import { runInjecAgent } from "../../src/benchmarks/injecagent.ts";
import type { BenchOptions, CaseRecord } from "../../src/benchmarks/report.ts";
import { disposeModel } from "../../src/model/weights.ts";
import type { Policy } from "../../src/rollout/rollout.ts";
import { rowsFor } from "../../src/benchmarks/turns.ts";
import { loadTinyModel } from "../helpers/tiny-model.ts";

const ROOT = path.join(import.meta.dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "trirl.js");
const DATA = path.resolve(ROOT, DEFAULT_DATA_DIR);
const hasData = fs.existsSync(path.join(DATA, "injecagent")) && fs.existsSync(path.join(DATA, "bfcl")) && fs.existsSync(path.join(DATA, "agent-safetybench"));
if (!hasData) console.warn(`skipping the benchmark end-to-end tests: no benchmark data at ${DATA}`);

const isRate = (x: unknown) => x === null || (typeof x === "number" && x >= 0 && x <= 1);

describe.skipIf(!hasData)("trirl bench on the tiny model (real data, a few cases)", () => {
  let policy: Policy;
  beforeAll(async () => {
    const { model, tokenizer } = await loadTinyModel();
    policy = { model, tokenizer };
  });
  afterAll(() => disposeModel(policy.model));

  const options = (name: "injecagent" | "bfcl" | "agent-safetybench", maxCases: number, records: CaseRecord[]): BenchOptions => ({
    dir: benchmarkDir(name, undefined, ROOT), maxCases, maxNewTokens: 12, batchSize: 8, systemPrompt: "Use the tools.", onCase: (r) => records.push(r),
  });

  it("injecagent: every file sampled, both settings scored, no tensor left behind", async () => {
    const records: CaseRecord[] = [];
    const before = tf.memory().numTensors;
    const r = await runInjecAgent(policy, options("injecagent", 8, records));
    expect(tf.memory().numTensors).toBe(before);
    expect(r.cases).toBe(8);
    expect(records.map((x) => `${x.kind}_${x.setting}`).sort()).toEqual(["dh_base", "dh_base", "dh_enhanced", "dh_enhanced", "ds_base", "ds_base", "ds_enhanced", "ds_enhanced"]);
    for (const s of [r.settings.base, r.settings.enhanced]) {
      expect(s.cases).toBe(4);
      expect([...Object.values(s.asr_valid), ...Object.values(s.asr_all), s.valid_rate].every(isRate)).toBe(true);
    }
    expect(r.invalid).toBe(records.filter((x) => x.invalid !== undefined).length);
  });

  it("bfcl: one case per category, accuracies and the summary are rates", async () => {
    const records: CaseRecord[] = [];
    const r = await runBfcl(policy, options("bfcl", 12, records));
    expect(Object.keys(r.categories)).toHaveLength(12);
    expect(Object.values(r.categories).reduce((n, c) => n + c.total, 0) + r.invalid).toBe(12);
    expect(Object.values(r.categories).every((c) => isRate(c.accuracy))).toBe(true);
    expect(Object.values(r.summary).every(isRate)).toBe(true);
    expect(records).toHaveLength(12);
  });

  it("agent-safetybench: one episode per risk category, judged by the proxy", async () => {
    const records: CaseRecord[] = [];
    const r = await runAsb(policy, options("agent-safetybench", 8, records));
    expect(Object.keys(r.by_risk)).toHaveLength(8);
    expect(r.overall.judged + r.not_judged + r.invalid).toBe(8);
    expect(r.proxy).toMatch(/proxy/);
    expect(isRate(r.offered_tool_call_rate)).toBe(true);
    expect(records.every((x) => x.invalid !== undefined || Array.isArray(x.turns))).toBe(true);
  });

  it("long prompts get fewer rows per batch, down to one", () => {
    expect(rowsFor(policy, 200, 16)).toBe(16);
    expect(rowsFor(policy, 4000, 16)).toBe(1); // 4 heads · 4000² floats already fill the budget
  });

  it("a context too short for any prompt makes every case invalid, with the reason, and nothing throws", async () => {
    const short: Policy = { ...policy, model: { ...policy.model, config: { ...policy.model.config, maxPositionEmbeddings: 64 } } };
    const r = await runBfcl(short, options("bfcl", 3, []));
    expect(r.invalid).toBe(3);
    expect(r.invalid_reasons).toEqual({ "prompt too long for the model's context (64 tokens)": 3 });
  });

  it("the command prints the JSON report and writes one line per case", () => {
    const cases = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trirl-bench-")), "cases.jsonl");
    const run = spawnSync("node", [BIN, "bench", "bfcl", "--model", "tiny", "--max-cases", "2", "--max-new-tokens", "4", "--cases", cases], { cwd: ROOT, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ benchmark: "bfcl", cases: 2, backend: "wasm" });
    expect(run.stderr).toMatch(/BFCL category/);
    expect(fs.readFileSync(cases, "utf8").trim().split("\n").map((l) => JSON.parse(l).benchmark)).toEqual(["bfcl", "bfcl"]);
  });
});

describe("trirl bench without data", () => {
  it("names the folder it looked in and exits non-zero", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-nodata-"));
    const run = spawnSync("node", [BIN, "bench", "injecagent", "--model", "tiny", "--data", empty], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`no benchmark data in ${empty}: looked for ${path.join(empty, "injecagent", "tools.json")} or ${path.join(empty, "tools.json")}`);
    expect(run.stdout).toBe("");
  });

  it("an unknown benchmark name is rejected with the choices", () => {
    const run = spawnSync("node", [BIN, "bench", "agentdojo", "--model", "tiny"], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/injecagent, bfcl, agent-safetybench/);
  });
});
