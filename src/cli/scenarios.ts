/**
 * `trirl scenarios generate | summary | validate`: write the built-in corpus as JSONL, count
 * a scenario file per split × category, and check a file line by line.
 */
import type { Command } from "commander";
import { checkedScenarios } from "../scenario/corpus/generate.ts";
import { loadScenarios, parseScenarioJsonl, readTextFile, saveScenarios, SCENARIO_FILE, throwIfErrors } from "../scenario/jsonl.ts";
import { summarizeScenarios } from "../scenario/summary.ts";
import { parseIntOption, printJson } from "./output.ts";

export function registerScenarioCommands(program: Command): void {
  const group = program.command("scenarios").description("generate, summarise and validate scenario JSONL files");
  group
    .command("generate")
    .description("write the built-in corpus (8 domains × 10 categories × train/validation/test) as JSONL; prints its summary")
    .requiredOption("--out <file>", "output JSONL path")
    .option("--seed <n>", "corpus seed", parseIntOption("--seed"), 0)
    .action((opts: { out: string; seed: number }) => {
      const scenarios = checkedScenarios({ seed: opts.seed });
      saveScenarios(opts.out, scenarios);
      printJson({ out: opts.out, ...summarizeScenarios(scenarios) });
    });
  group
    .command("summary")
    .description("counts per split × category (user label / tool labels) and per domain, as JSON")
    .option("--scenarios <file>", "scenario JSONL (default: the built-in corpus)")
    .action((opts: { scenarios?: string }) => {
      printJson(summarizeScenarios(opts.scenarios === undefined ? checkedScenarios() : loadScenarios(opts.scenarios)));
    });
  group
    .command("validate")
    .description("check every line of a scenario JSONL; errors name the line and field")
    .argument("<file>", "scenario JSONL")
    .action((file: string) => {
      const result = parseScenarioJsonl(readTextFile(file), file);
      throwIfErrors(result, file, SCENARIO_FILE);
      printJson({ file, scenarios: result.items.length, ok: true });
    });
}
