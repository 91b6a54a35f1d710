/** The run config: defaults, strictness, cross-field rules, and the shipped config files. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TINY_SYSTEM_PROMPT } from "../src/model/tiny-model.ts";
import { SYSTEM_PROMPT } from "../src/sandbox/protocol.ts";
import { parseRunConfig, RunConfig, SMOKE_CONFIG } from "../src/config.ts";

const CONFIGS = path.join(import.meta.dirname, "..", "configs");

describe("RunConfig", () => {
  it("configs/smoke.json spells out exactly the embedded smoke config (what `trirl train` runs with no options)", () => {
    const smoke = JSON.parse(fs.readFileSync(path.join(CONFIGS, "smoke.json"), "utf8"));
    expect(parseRunConfig(smoke, "smoke.json")).toEqual(parseRunConfig(SMOKE_CONFIG, "embedded"));
    // the smoke run is the defaults except its backend (wasm, not auto), its reward, its shared-prompt
    // micro-batches, centred and behaviour-debiased advantages, sensitive requests drawn twice and validation on 48 scenarios every 5 steps
    const defaults = RunConfig.parse({});
    const embedded = parseRunConfig(SMOKE_CONFIG, "embedded");
    expect({ ...embedded, backend: defaults.backend, reward: defaults.reward, loss: defaults.loss, select: defaults.select, labelWeights: defaults.labelWeights }).toEqual(defaults);
    expect([embedded.backend, defaults.backend]).toEqual(["wasm", "auto"]);
    expect(embedded.loss).toEqual({ ...defaults.loss, microBatch: 8, sharePrefix: true, scaleByStd: false, debiasBehaviour: true });
    expect(embedded.labelWeights).toEqual({ benign: 1, malicious: 1, sensitive: 2 });
    expect(embedded.select).toEqual({ ...defaults.select, every: 5, maxScenarios: 48 });
  });
  // configs/sweep-*.json are sweep grids, not run configs (test/report/sweep-grid.test.ts)
  it.each(fs.readdirSync(CONFIGS).filter((f) => f.endsWith(".json") && !f.startsWith("sweep-")))("configs/%s is a valid run config", (file) => {
    expect(() => parseRunConfig(JSON.parse(fs.readFileSync(path.join(CONFIGS, file), "utf8")), file)).not.toThrow();
  });
  it("an ablation differs from the smoke run only in its reward", () => {
    const base = parseRunConfig(SMOKE_CONFIG, "embedded");
    for (const file of ["ablation-no-verification.json", "ablation-product.json", "ablation-no-gates.json"]) {
      const ablation = parseRunConfig(JSON.parse(fs.readFileSync(path.join(CONFIGS, file), "utf8")), file);
      expect({ ...ablation, reward: base.reward }).toEqual(base);
      expect(ablation.reward).not.toEqual(base.reward);
    }
  });
  it("rejects a typo, naming the key path and the file", () => {
    expect(() => parseRunConfig({ rollout: { maxNewToken: 5 } }, "my.json")).toThrow(/my.json: invalid run config\n {2}rollout: .*maxNewToken/);
  });
  it("rejects a behaviour mix that does not sum to 1, saying why", () => {
    expect(() => parseRunConfig({ warmStart: { mix: { execute: 0.5, refuse: 0.1, verify: 0.1 } } }, "c")).toThrow(/warmStart.mix: execute \+ refuse \+ verify must sum to 1/);
  });
  it("resolves the system prompt: the tiny model's, a model folder's system_prompt.txt, else the protocol text; an explicit one as given", () => {
    expect(parseRunConfig({}, "c").rollout.systemPrompt).toBe(TINY_SYSTEM_PROMPT);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-prompt-"));
    fs.writeFileSync(path.join(dir, "system_prompt.txt"), "Be brief.\n");
    expect(parseRunConfig({ model: dir }, "c").rollout.systemPrompt).toBe("Be brief.");
    fs.rmSync(dir, { recursive: true });
    expect(parseRunConfig({ model: "models/Qwen2.5-0.5B-Instruct" }, "c").rollout.systemPrompt).toBe(SYSTEM_PROMPT);
    expect(parseRunConfig({ model: "m", rollout: { systemPrompt: "Be careful." } }, "c").rollout.systemPrompt).toBe("Be careful.");
  });
  it("rejects sharePrefix together with checkpointLayers, naming both", () => {
    expect(() => parseRunConfig({ loss: { sharePrefix: true, checkpointLayers: true } }, "c")).toThrow(/loss.sharePrefix: .*sharePrefix and checkpointLayers/);
  });

  it("rejects a group size of 1 (no group-relative advantage)", () => {
    expect(() => parseRunConfig({ groupSize: 1 }, "c")).toThrow(/groupSize/);
  });
});
