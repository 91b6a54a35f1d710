/**
 * `trirl report RUN… [--out FILE]`: the HTML report of one run folder, or of several side by side;
 * `trirl sweep`: a grid of run configs × seeds, one run folder each, resumable, then a sweep
 * report.
 */
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { parseRunConfig } from "../config.ts";
import { writeFileAtomic } from "../report/page.ts";
import { REPORT_FILE, runsReportHtml } from "../report/run-report.ts";
import { parseGrid, parseSeeds } from "../report/sweep-grid.ts";
import { runSweep } from "../report/sweep.ts";
import { defaultThreads } from "../rl/pool.ts";
import { parseIntOption, printJson } from "./output.ts";
import { createProgress } from "./progress.ts";

function reportCommand(dirs: string[], opts: { out?: string }) {
  const out = opts.out ?? (dirs.length === 1 ? path.join(dirs[0], REPORT_FILE) : REPORT_FILE);
  writeFileAtomic(out, runsReportHtml(dirs));
  printJson({ report: out, runs: dirs });
}

function readJsonFile(file: string, option: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`${option} ${file}: cannot read JSON (${(cause as Error).message})`, { cause });
  }
}

type SweepOptions = { config: string; grid: string; seeds?: string; out?: string; threads: number };

async function sweepCommand(opts: SweepOptions) {
  const base = readJsonFile(opts.config, "--config");
  parseRunConfig(base, `--config ${opts.config}`);
  const seeds = opts.seeds === undefined ? undefined : parseSeeds(opts.seeds, "--seeds");
  const plan = parseGrid(readJsonFile(opts.grid, "--grid"), base, { where: `--grid ${opts.grid}`, seeds });
  const outDir = opts.out ?? path.join("runs", `sweep-${path.basename(opts.grid, ".json")}`);
  const progress = createProgress(process.stderr);
  progress.line(`trirl sweep → ${outDir}: ${plan.runs.length} runs (${plan.keys.map((k) => `${k.key} × ${k.values.length}`).join(", ")}, ${plan.seeds.length} seed${plan.seeds.length > 1 ? "s" : ""})`);
  const result = await runSweep(plan, outDir, { progress, threads: opts.threads, source: { config: opts.config, grid: opts.grid } });
  printJson(result);
}

export function registerReportCommands(program: Command): void {
  program
    .command("report")
    .description("HTML report of run folders (plots, eval before → after, sample episodes); several runs side by side")
    .argument("<runs...>", "run folders written by trirl train")
    .option("--out <file>", `output file (default: RUN/${REPORT_FILE} for one run, ./${REPORT_FILE} for several)`)
    .action(reportCommand);
  program
    .command("sweep")
    .description("train the cross product of a grid of config values × seeds, one run folder each (resumable), then write a sweep report")
    .requiredOption("--config <file>", "base run config JSON")
    .requiredOption("--grid <file>", 'grid JSON: dotted config keys → lists of values, e.g. {"reward.weights.task": [0.3, 1]}')
    .option("--seeds <list>", "comma-separated seeds, e.g. 0,1,2 (default: the config's seed)")
    .option("--out <dir>", "sweep folder (default: runs/sweep-<grid file name>; run the same command again to resume)")
    .option("--threads <n>", "threads per run (see trirl train --threads)", parseIntOption("--threads", 1), defaultThreads())
    .action(sweepCommand);
}
