/**
 * A run's and an eval's inputs, checked before anything is written: scenario splits (an eval needs
 * only its own split), the run folder (a new run never replaces another run), the model folder.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseRunConfig } from "../../src/config.ts";
import { checkModelFolder, evalScenarios, splitScenarios, warmStartDir } from "../../src/rl/base-model.ts";
import { claimRunFolder } from "../../src/rl/run-folder.ts";
import { saveScenarios } from "../../src/scenario/jsonl.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { TABLE_SCENARIOS } from "../reward/table-cases.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "trirl-inputs-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const scenarios = TABLE_SCENARIOS.map((s) => Scenario.parse(s));

function scenarioFile(name: string, split: (i: number) => Scenario["split"]): string {
  const file = path.join(root, name);
  saveScenarios(file, scenarios.map((s, i) => ({ ...s, split: split(i) })));
  return file;
}

describe("seeds: the run's, the corpus's, the warm start's", () => {
  it("every run seed trains, selects and is evaluated on the same built-in scenarios; corpusSeed changes them", () => {
    const [a, b, c] = [{ seed: 0 }, { seed: 1 }, { seed: 1, corpusSeed: 1 }].map((x) => splitScenarios(parseRunConfig(x, "test")));
    expect(b.train).toEqual(a.train);
    expect(b.evalSet).toEqual(a.evalSet);
    expect(b.validation).toEqual(a.validation);
    expect(c.train).not.toEqual(a.train);
  });
  it("the warm start's cache folder does not depend on the run seed, and does on warmStart.seed and the corpus", () => {
    const dir = (x: object) => {
      const cfg = parseRunConfig(x, "test");
      return warmStartDir(cfg, "/models/tiny", splitScenarios(cfg).train);
    };
    expect(dir({ seed: 2 })).toBe(dir({ seed: 0 }));
    expect(dir({ warmStart: { seed: 1 } })).not.toBe(dir({}));
    expect(dir({ corpusSeed: 1 })).not.toBe(dir({}));
  });
});

describe("scenario splits", () => {
  const testOnly = scenarioFile("test-only.jsonl", () => "test");

  it("an eval of a file that holds only test scenarios evaluates all of them, with no train split", () => {
    const cfg = parseRunConfig({ scenarios: testOnly }, "test");
    expect(evalScenarios(cfg).map((s) => s.id)).toEqual(scenarios.map((s) => s.id));
  });

  it("an eval of an empty split names the split and the splits the file has", () => {
    const cfg = parseRunConfig({ scenarios: testOnly, eval: { split: "validation" } }, "test");
    expect(() => evalScenarios(cfg)).toThrow(`${testOnly}: no scenarios with split "validation", which --split asks for (splits in the file: test ${scenarios.length})`);
  });

  it("a file without split fields serves every scenario to every split", () => {
    const cfg = parseRunConfig({ scenarios: scenarioFile("unsplit.jsonl", () => undefined), eval: { split: "validation" } }, "test");
    expect(evalScenarios(cfg)).toHaveLength(scenarios.length);
    const { train, evalSet, validation } = splitScenarios(cfg);
    expect([train.length, evalSet.length, validation.length]).toEqual([scenarios.length, scenarios.length, scenarios.length]);
  });

  it("training still needs a train split, and selection a validation split unless it is off", () => {
    expect(() => splitScenarios(parseRunConfig({ scenarios: testOnly }, "test"))).toThrow(/no scenarios with split "train", which training draws from/);
    const mixed = scenarioFile("mixed.jsonl", (i) => (i % 2 === 0 ? "train" : "test"));
    expect(() => splitScenarios(parseRunConfig({ scenarios: mixed }, "test"))).toThrow(/split "validation", which best-step selection evaluates .*\n---> HINT: add some, or set select.every to 0/);
    const { train, evalSet, validation } = splitScenarios(parseRunConfig({ scenarios: mixed, select: { every: 0 } }, "test"));
    expect([train.length + evalSet.length, validation.length]).toEqual([scenarios.length, 0]);
  });
});

describe("claimRunFolder", () => {
  const folder = (name: string, files: Record<string, string>) => {
    const dir = path.join(root, name);
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    return dir;
  };

  it("lets a new run into a folder that does not exist or is empty", () => {
    expect(() => claimRunFolder(path.join(root, "absent"), { isResume: false })).not.toThrow();
    fs.mkdirSync(path.join(root, "empty"));
    expect(() => claimRunFolder(path.join(root, "empty"), { isResume: false })).not.toThrow();
  });

  it("refuses a folder that holds a run, leaving it as it was, and points at --resume and --overwrite", () => {
    const dir = folder("finished", { "config.json": "{}", "metrics.jsonl": "{}\n", "adapter/adapter_config.json": "{}" });
    expect(() => claimRunFolder(dir, { isResume: false })).toThrow(/already holds a trirl run \(.*config\.json.*\); a new run never overwrites one\n---> HINT: --resume .* continues it; .* --overwrite/);
    expect(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8")).toBe("{}\n");
  });

  it("with isOverwrite, empties a folder that holds only a run (temp folders of a killed save included)", () => {
    const dir = folder("replaced", { "config.json": "{}", "checkpoint.tmp-4242/state.json": "{}", "samples/step-00004.jsonl": "" });
    claimRunFolder(dir, { isResume: false, isOverwrite: true });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("never empties a folder with files that are not a run's, even with isOverwrite", () => {
    const dir = folder("thesis", { "config.json": "{}", "chapter1.tex": "…" });
    expect(() => claimRunFolder(dir, { isResume: false, isOverwrite: true })).toThrow(/holds files that are not a trirl run's \(chapter1\.tex\)/);
    expect(fs.readdirSync(dir).sort()).toEqual(["chapter1.tex", "config.json"]);
  });

  it("resumes only a folder with a run config", () => {
    expect(() => claimRunFolder(path.join(root, "empty"), { isResume: true })).toThrow(/no config\.json, so not a trirl run folder to resume/);
  });
});

describe("checkModelFolder", () => {
  it("names a folder that does not exist, and one without a config or tokenizer", () => {
    expect(() => checkModelFolder(path.join(root, "nope"))).toThrow(`model ${path.join(root, "nope")}: no such folder`);
    fs.mkdirSync(path.join(root, "bare"));
    expect(() => checkModelFolder(path.join(root, "bare"))).toThrow(`${path.join(root, "bare", "config.json")}: not found`);
    const fixture = path.join(import.meta.dirname, "..", "fixtures", "qwen2-tiny"); // weights, no tokenizer
    expect(() => checkModelFolder(fixture)).toThrow(`${fixture}: no tokenizer.json or tokenizer_config.json`);
  });
});
