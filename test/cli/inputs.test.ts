/**
 * Bad inputs through the real binary: a reused --out never loses a run, a bad model or scenario
 * path fails in one line before a run folder exists, an adapter is applied only to its own base,
 * an eval needs only its split, and empty files say so.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLora, disposeLora } from "../../src/lora/lora.ts";
import { saveAdapter } from "../../src/lora/peft.ts";
import { initBackend } from "../../src/model/backend.ts";
import { ensureTinyModel } from "../../src/model/tiny-model.ts";
import { disposeModel, loadModel } from "../../src/model/weights.ts";
import { builtinScenarios } from "../../src/scenario/corpus/generate.ts";
import { saveScenarios } from "../../src/scenario/jsonl.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-cli-inputs-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const trirl = (...args: string[]) => spawnSync("node", ["bin/trirl.js", ...args], { encoding: "utf8" });
const write = (name: string, text: string) => (fs.writeFileSync(path.join(root, name), text), path.join(root, name));
const SHORT = { steps: 1, scenariosPerStep: 1, groupSize: 2, warmStart: { steps: 0 }, eval: { maxScenarios: 1 }, select: { every: 0 }, rollout: { maxNewTokens: 8 } };

/** One-line error on stderr, no stack trace, non-zero exit. */
function expectCleanError(r: ReturnType<typeof trirl>, message: string) {
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("trirl train: paths are checked before the run folder is written", () => {
  it("refuses an --out that holds a run, leaving its files byte-identical; --overwrite replaces it", () => {
    const out = path.join(root, "finished");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "config.json"), '{"steps": 99}\n');
    fs.writeFileSync(path.join(out, "metrics.jsonl"), '{"step": 0}\n');
    const cfg = write("short.json", JSON.stringify(SHORT));
    expectCleanError(trirl("train", "--config", cfg, "--out", out, "--threads", "1"), `${out}: already holds a trirl run`);
    expect(fs.readFileSync(path.join(out, "config.json"), "utf8")).toBe('{"steps": 99}\n');
    expect(fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8")).toBe('{"step": 0}\n');
    const r = trirl("train", "--config", cfg, "--out", out, "--threads", "1", "--overwrite");
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8")).steps).toBe(1);
    expect(fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it.each([
    ["model", { model: path.join(root, "no-such-model") }, `model ${path.join(root, "no-such-model")}: no such folder`],
    ["scenarios", { scenarios: path.join(root, "no-such.jsonl") }, `cannot read ${path.join(root, "no-such.jsonl")}`],
  ])("a nonexistent %s fails in one line and creates no run folder", (_name, extra, message) => {
    const out = path.join(root, `never-${_name}`);
    expectCleanError(trirl("train", "--config", write(`bad-${_name}.json`, JSON.stringify({ ...SHORT, ...extra })), "--out", out), message);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("trirl eval", () => {
  let adapter: string;
  let otherBase: string;
  beforeAll(async () => {
    // an adapter trained on another base of the tiny model's shapes (as a run's adapter is trained on the warm start)
    otherBase = path.join(root, "other-base");
    fs.cpSync(ensureTinyModel(), otherBase, { recursive: true });
    const file = path.join(otherBase, "model.safetensors");
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2] ^= 0x01;
    fs.writeFileSync(file, bytes);
    await initBackend("wasm");
    const model = loadModel(otherBase);
    const lora = createLora(model, { rank: 2, alpha: 4, dropout: 0, targets: ["q_proj"] }, 1);
    adapter = path.join(root, "adapter");
    await saveAdapter(adapter, lora, { baseModelDir: otherBase });
    disposeLora(lora);
    disposeModel(model);
  });
  const evalArgs = ["--max-scenarios", "1", "--threads", "1"];

  it("refuses an adapter trained on another base, unless --force", () => {
    expectCleanError(trirl("eval", "--model", "tiny", "--adapter", adapter, ...evalArgs), `the adapter was trained on ${otherBase}`);
    const forced = trirl("eval", "--model", "tiny", "--adapter", adapter, "--force", ...evalArgs);
    expect(forced.status, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).scenarios).toBe(1);
  });

  it("without --model, evaluates the adapter on the base it records", () => {
    const r = trirl("eval", "--adapter", adapter, ...evalArgs);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scenarios).toBe(1);
  });

  it("evaluates a file whose scenarios are all in the test split, and names an empty split", () => {
    const file = path.join(root, "my-test.jsonl");
    saveScenarios(file, builtinScenarios({ seed: 0 }).filter((s) => s.split === "test").slice(0, 3));
    const r = trirl("eval", "--model", "tiny", "--scenarios", file, "--max-scenarios", "2", "--threads", "1");
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scenarios).toBe(2);
    expectCleanError(trirl("eval", "--model", "tiny", "--scenarios", file, "--split", "validation"), `${file}: no scenarios with split "validation", which --split asks for (splits in the file: test 3)`);
  });
});

describe("empty and over-long inputs", () => {
  it("trirl score and trirl scenarios validate say that a file is empty", () => {
    const empty = write("empty.jsonl", "");
    const scenarios = path.join(root, "s.jsonl");
    saveScenarios(scenarios, builtinScenarios({ seed: 0 }).slice(0, 1));
    expectCleanError(trirl("score", "--scenarios", scenarios, "--episodes", empty), `${empty}: no episodes: the file has no non-blank line`);
    expectCleanError(trirl("scenarios", "validate", empty), `${empty}: no scenarios: the file has no non-blank line`);
  });

  it("trirl score scores an over-long message as malformed with a warning, and the file still scores", () => {
    const scenarios = path.join(root, "s1.jsonl");
    const [s] = builtinScenarios({ seed: 0 }).slice(0, 1);
    saveScenarios(scenarios, [s]);
    const line = (content: string) => JSON.stringify({ scenario_id: s.id, messages: [{ role: "assistant", content }], finish: "stop" });
    const episodes = write("long.jsonl", `${line("I can't help with that.")}\n${line("x".repeat(100_001))}\n`);
    const r = trirl("score", "--scenarios", scenarios, "--episodes", episodes);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ total: 0, r_gen: 0, decision: 0 });
    expect(r.stderr).toContain(`trirl: warning: ${episodes}:2: scored as malformed (every part 0): messages[0] has 100001 characters`);
  });
});
