/**
 * `trirl score` as a library call (SPEC §6): an episodes JSONL (scenario id, messages after
 * the scenario's own, finish) scored against a scenario list. Output rows keep input order
 * and carry episode_id, scenario_id, total and every part. Bad lines and unknown scenario
 * ids are reported with file and line number, all at once.
 */
import { z } from "zod";
import { parseJsonl, throwIfErrors } from "../scenario/jsonl.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { RewardConfig } from "./config.ts";
import { scoreEpisode } from "./reward.ts";

/** Episode messages are model output: allowed longer than a scenario's own messages. */
const EpisodeMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().max(100_000),
});

export const EpisodeLine = z.strictObject({
  episode_id: z.union([z.string(), z.number()]).optional(),
  scenario_id: z.string().min(1),
  messages: z.array(EpisodeMessage).max(1_000),
  finish: z.enum(["stop", "length"]),
});
export type EpisodeLine = z.infer<typeof EpisodeLine>;

export type ScoreRow = { episode_id: string | number | null; scenario_id: string; total: number } & Record<string, number | string | null>;

/** Scores every line of an episodes JSONL text; throws one Error naming every bad line. */
export function scoreEpisodeFile(scenarios: readonly Scenario[], text: string, file: string, cfg: RewardConfig): ScoreRow[] {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const { items, errors } = parseJsonl(text, file, EpisodeLine);
  for (const { line, value } of items) {
    if (!byId.has(value.scenario_id)) errors.push(`${file}:${line}: scenario_id: no scenario "${value.scenario_id}" in the scenario file`);
  }
  throwIfErrors(errors, file, "the episode file");
  return items.map(({ value }) => {
    const { total, parts } = scoreEpisode(byId.get(value.scenario_id)!, { messages: value.messages, finish: value.finish }, cfg);
    return { episode_id: value.episode_id ?? null, scenario_id: value.scenario_id, total, ...parts };
  });
}
