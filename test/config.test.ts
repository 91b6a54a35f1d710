/** The run config: defaults, strictness, cross-field rules, and the shipped config files. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunConfig, RunConfig } from "../src/config.ts";

const CONFIGS = path.join(import.meta.dirname, "..", "configs");

describe("RunConfig", () => {
  it("configs/smoke.json spells out exactly the defaults (what `trirl train` runs with no options)", () => {
    const smoke = JSON.parse(fs.readFileSync(path.join(CONFIGS, "smoke.json"), "utf8"));
    expect(parseRunConfig(smoke, "smoke.json")).toEqual(RunConfig.parse({}));
  });
  it.each(fs.readdirSync(CONFIGS).filter((f) => f.endsWith(".json")))("configs/%s is a valid run config", (file) => {
    expect(() => parseRunConfig(JSON.parse(fs.readFileSync(path.join(CONFIGS, file), "utf8")), file)).not.toThrow();
  });
  it("an ablation differs from the smoke run only where it says", () => {
    const ablation = parseRunConfig(JSON.parse(fs.readFileSync(path.join(CONFIGS, "ablation-no-verification.json"), "utf8")), "x");
    const base = RunConfig.parse({});
    expect({ ...ablation, reward: base.reward }).toEqual(base);
    expect(ablation.reward.weights.protocol).toBe(0);
  });
  it("rejects a typo, naming the key path and the file", () => {
    expect(() => parseRunConfig({ rollout: { maxNewToken: 5 } }, "my.json")).toThrow(/my.json: invalid run config\n {2}rollout: .*maxNewToken/);
  });
  it("rejects a behaviour mix that does not sum to 1, saying why", () => {
    expect(() => parseRunConfig({ warmStart: { mix: { execute: 0.5, refuse: 0.1, verify: 0.1 } } }, "c")).toThrow(/warmStart.mix: execute \+ refuse \+ verify must sum to 1/);
  });
  it("rejects a group size of 1 (no group-relative advantage)", () => {
    expect(() => parseRunConfig({ groupSize: 1 }, "c")).toThrow(/groupSize/);
  });
});
