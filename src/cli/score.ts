/**
 * `trirl score --scenarios FILE --episodes FILE [--reward-config FILE]` (SPEC §6): one JSON
 * line per episode, in input order, with episode_id, scenario_id, total and every reward part.
 */
import type { Command } from "commander";
import { RewardConfig } from "../reward/config.ts";
import { scoreEpisodeFile } from "../reward/score-file.ts";
import { formatPath, loadScenarios, readTextFile } from "../scenario/jsonl.ts";
import { printJson } from "./output.ts";

export function readRewardConfig(path: string | undefined): RewardConfig {
  if (path === undefined) return RewardConfig.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readTextFile(path));
  } catch (error) {
    throw new Error(`--reward-config ${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = RewardConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${formatPath(i.path)}: ${i.message}`).join("\n");
    throw new Error(`--reward-config ${path}: invalid reward config:\n${issues}`);
  }
  return parsed.data;
}

export function registerScoreCommands(program: Command): void {
  program
    .command("score")
    .description("score episodes against their scenarios with the tri-modal reward; prints one JSON line per episode")
    .requiredOption("--scenarios <file>", "scenario JSONL")
    .requiredOption("--episodes <file>", 'episode JSONL: {"episode_id"?, "scenario_id", "messages", "finish": "stop" | "length"}')
    .option("--reward-config <file>", "JSON reward config (combine, weights, gates, genWeight); defaults when absent")
    .action((opts: { scenarios: string; episodes: string; rewardConfig?: string }) => {
      const cfg = readRewardConfig(opts.rewardConfig);
      const scenarios = loadScenarios(opts.scenarios);
      const { rows, warnings } = scoreEpisodeFile(scenarios, readTextFile(opts.episodes), opts.episodes, cfg);
      for (const w of warnings) process.stderr.write(`trirl: warning: ${w}\n`);
      for (const row of rows) printJson(row);
    });
}
