/**
 * Sweep grids: the cross product × seeds with deterministic names and configs that hold the swept
 * values, and every kind of bad grid rejected with a message that names the key or value.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunConfig, SMOKE_CONFIG } from "../../src/config.ts";
import { parseGrid, parseSeeds, runName } from "../../src/report/sweep-grid.ts";

const BASE = { steps: 3, reward: { combine: "weighted-sum", weights: { decision: 1 } } };
const where = "--grid g.json";
const grid = (raw: unknown, seeds?: number[]) => parseGrid(raw, BASE, { where, seeds });

describe("parseGrid", () => {
  it("expands the cross product × seeds, each config holding its values over the base config", () => {
    const plan = grid({ "reward.weights.task": [0.3, 1], "reward.combine": ["product", "weighted-sum"] }, [0, 1]);
    expect(plan.runs).toHaveLength(8);
    expect(plan.runs.map((r) => r.name)).toEqual([
      "reward.weights.task=0.3,reward.combine=product,seed=0",
      "reward.weights.task=0.3,reward.combine=product,seed=1",
      "reward.weights.task=0.3,reward.combine=weighted-sum,seed=0",
      "reward.weights.task=0.3,reward.combine=weighted-sum,seed=1",
      "reward.weights.task=1,reward.combine=product,seed=0",
      "reward.weights.task=1,reward.combine=product,seed=1",
      "reward.weights.task=1,reward.combine=weighted-sum,seed=0",
      "reward.weights.task=1,reward.combine=weighted-sum,seed=1",
    ]);
    const last = plan.runs[7].config;
    expect([last.reward.weights.task, last.reward.combine, last.seed]).toEqual([1, "weighted-sum", 1]);
    expect([last.steps, last.reward.weights.decision]).toEqual([3, 1]); // the base config's own values stay
    expect(last.reward.weights.protocol).toBe(0.1); // and the defaults fill the rest
  });

  it("uses the base config's seed when no seeds are given", () => {
    const plan = parseGrid({ steps: [1, 2] }, { ...BASE, seed: 7 }, { where });
    expect(plan.runs.map((r) => [r.name, r.config.seed, r.config.steps])).toEqual([["steps=1,seed=7", 7, 1], ["steps=2,seed=7", 7, 2]]);
  });

  it.each([
    ["reward.weights.taks", { "reward.weights.taks": [1] }, /"reward\.weights\.taks" is not a run-config key \(reward\.weights has no "taks"/],
    ["a top-level typo", { stepz: [1] }, /"stepz" is not a run-config key \(the top level has no "stepz"/],
    ["an unknown section", { "rewards.weights.task": [1] }, /"rewards\.weights\.task" is not a run-config key \(the top level has no "rewards"/],
  ])("rejects an unknown key, naming it: %s", (_, raw, message) => {
    expect(() => grid(raw)).toThrow(message);
  });

  it.each([
    ["a string for a number", { "reward.weights.task": [0.3, "1"] }, /"reward\.weights\.task" value "1" \(item 1\) is not valid: reward\.weights\.task: .*expected number/],
    ["an unknown enum value", { "reward.combine": ["product", "sum"] }, /"reward\.combine" value "sum" \(item 1\) is not valid: reward\.combine/],
    ["a negative weight", { "reward.weights.task": [-1] }, /"reward\.weights\.task" value -1 \(item 0\) is not valid/],
    ["a fraction for an integer", { steps: [2.5] }, /"steps" value 2\.5 \(item 0\) is not valid: steps: .*int/],
    ["a key inside a number", { "steps.x": [1] }, /"steps\.x": steps is 3 in the config, not an object/],
  ])("rejects a value of the wrong type, naming key and value: %s", (_, raw, message) => {
    expect(() => grid(raw)).toThrow(message);
  });

  it.each([
    ["not an object", [1, 2], /expected a JSON object of dotted config keys/],
    ["no keys", {}, /expected a JSON object/],
    ["a value that is not a list", { steps: 2 }, /"steps": expected a non-empty list of values, got 2/],
    ["an empty list", { steps: [] }, /"steps": expected a non-empty list/],
    ["a value listed twice", { steps: [1, 1] }, /"steps": a value is listed twice/],
    ["seed as a key", { seed: [0, 1] }, /"seed" cannot be a grid key: sweep seeds with --seeds/],
    ["overlapping keys", { reward: [{}], "reward.combine": ["product"] }, /"reward" and "reward\.combine" overlap/],
    ["a malformed key", { "reward..combine": ["product"] }, /"reward\.\.combine" is not a dotted config key/],
  ])("rejects a malformed grid: %s", (_, raw, message) => {
    expect(() => grid(raw)).toThrow(message);
  });

  it("rejects a combination that breaks a cross-field rule, naming it", () => {
    // each value is valid alone; together they break "sharePrefix is not run with checkpointLayers"
    expect(() => grid({ "loss.sharePrefix": [true], "loss.checkpointLayers": [false, true] }))
      .toThrow(/the combination loss\.sharePrefix=true,loss\.checkpointLayers=true,seed=0 is not a valid run config: loss\.sharePrefix: a shared prefix/);
  });
});

describe("the shipped grids", () => {
  const configs = path.join(import.meta.dirname, "..", "..", "configs");
  const read = (file: string) => JSON.parse(fs.readFileSync(path.join(configs, file), "utf8"));
  it.each(fs.readdirSync(configs).filter((f) => f.startsWith("sweep-") && f.endsWith(".json")))("configs/%s is a valid grid for the smoke config and configs/short.json", (file) => {
    for (const base of [SMOKE_CONFIG, read("short.json")]) expect(parseGrid(read(file), base, { where: file, seeds: [0, 1] }).runs.length).toBeGreaterThanOrEqual(4);
  });

  it("configs/short.json is the smoke run made small: its reward, fewer and smaller steps, evals and warm start", () => {
    const [short, smoke] = [parseRunConfig(read("short.json"), "short.json"), parseRunConfig(SMOKE_CONFIG, "smoke")];
    const sized = { steps: smoke.steps, scenariosPerStep: smoke.scenariosPerStep, groupSize: smoke.groupSize, select: smoke.select, eval: smoke.eval, warmStart: smoke.warmStart };
    expect({ ...short, ...sized, loss: { ...short.loss, microBatch: smoke.loss.microBatch } }).toEqual(smoke);
    expect(short.loss.microBatch).toBe(short.groupSize); // sharePrefix runs each group's prompt once
    expect([short.steps, short.scenariosPerStep, short.groupSize, short.select.every, short.eval.maxScenarios, short.warmStart.steps]).toEqual([4, 2, 4, 2, 20, 100]);
  });
});

describe("runName", () => {
  it("is made of the values, with path-unsafe characters replaced", () => {
    expect(runName({ "rollout.systemPrompt": "a/b c", "lora.targets": ["q_proj"] }, 2)).toBe('rollout.systemPrompt=a-b-c,lora.targets=-q_proj-,seed=2');
  });

  it("keeps long names under 151 characters and distinct", () => {
    const a = runName({ "rollout.systemPrompt": "x".repeat(300) }, 0);
    const b = runName({ "rollout.systemPrompt": `${"x".repeat(299)}y` }, 0);
    expect(a.length).toBeLessThanOrEqual(150);
    expect(a).not.toBe(b);
  });
});

describe("parseSeeds", () => {
  it("reads a comma-separated list", () => expect(parseSeeds("0, 1,2", "--seeds")).toEqual([0, 1, 2]));
  it.each([["0,x", /--seeds: "x" is not a seed/], ["1,-2", /"-2" is not a seed/], ["1,1", /repeats a seed/]])("rejects %s", (raw, message) => {
    expect(() => parseSeeds(raw, "--seeds")).toThrow(message);
  });
});
