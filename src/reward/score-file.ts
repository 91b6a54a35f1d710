/**
 * `trirl score` as a library call (SPEC §6): an episodes JSONL (scenario id, messages after
 * the scenario's own, finish) scored against a scenario list. Output rows keep input order
 * and carry episode_id, scenario_id, total and every part. Bad lines and unknown scenario
 * ids are reported with file and line number, all at once. What a model wrote never fails the
 * file: an episode over the size limits scores as malformed (every part 0) with a warning.
 */
import { z } from "zod";
import { parseJsonl, throwIfErrors, type JsonlKind } from "../scenario/jsonl.ts";
import type { Scenario } from "../scenario/schema.ts";
import { COMPONENT_NAMES, type RewardConfig } from "./config.ts";
import { scoreEpisode } from "./reward.ts";

/** Longer episodes are scored as malformed, not parsed: no agent turn needs more (README). */
export const MAX_MESSAGE_CHARS = 100_000;
export const MAX_EPISODE_MESSAGES = 1_000;

export const EPISODE_FILE: JsonlKind = { what: "episode", readmeSection: "Scoring episodes from elsewhere" };

const EpisodeMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
});

export const EpisodeLine = z.strictObject({
  episode_id: z.union([z.string(), z.number()]).optional(),
  scenario_id: z.string().min(1),
  messages: z.array(EpisodeMessage),
  finish: z.enum(["stop", "length"]),
});
export type EpisodeLine = z.infer<typeof EpisodeLine>;

/** `malformed`: why the episode was not scored (every part is then 0). */
export type ScoreRow = { episode_id: string | number | null; scenario_id: string; total: number; malformed?: string } & Record<string, number | string | null | undefined>;

/** `warnings`: one line per malformed episode, naming file and line. */
export type ScoredFile = { rows: ScoreRow[]; warnings: string[] };

/** Why an episode is too large to score, or undefined when it is not. */
function oversize(episode: EpisodeLine): string | undefined {
  if (episode.messages.length > MAX_EPISODE_MESSAGES) return `${episode.messages.length} messages, over the limit of ${MAX_EPISODE_MESSAGES}`;
  const i = episode.messages.findIndex((m) => m.content.length > MAX_MESSAGE_CHARS);
  return i < 0 ? undefined : `messages[${i}] has ${episode.messages[i].content.length} characters, over the limit of ${MAX_MESSAGE_CHARS}`;
}

/** Scores every line of an episodes JSONL text; throws one Error naming every bad line, or saying the file is empty. */
export function scoreEpisodeFile(scenarios: readonly Scenario[], text: string, file: string, cfg: RewardConfig): ScoredFile {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const result = parseJsonl(text, file, EpisodeLine);
  for (const { line, value } of result.items) {
    if (!byId.has(value.scenario_id)) result.errors.push(`${file}:${line}: scenario_id: no scenario "${value.scenario_id}" in the scenario file`);
  }
  throwIfErrors(result, file, EPISODE_FILE);
  const warnings: string[] = [];
  const rows = result.items.map(({ line, value }): ScoreRow => {
    const id = { episode_id: value.episode_id ?? null, scenario_id: value.scenario_id };
    const tooLarge = oversize(value);
    if (tooLarge !== undefined) {
      warnings.push(`${file}:${line}: scored as malformed (every part 0): ${tooLarge}`);
      return { ...id, total: 0, r_gen: 0, r_l: 0, ...Object.fromEntries(COMPONENT_NAMES.map((n) => [n, 0])), malformed: tooLarge };
    }
    const { total, parts } = scoreEpisode(byId.get(value.scenario_id)!, { messages: value.messages, finish: value.finish }, cfg);
    return { ...id, total, ...parts };
  });
  return { rows, warnings };
}
