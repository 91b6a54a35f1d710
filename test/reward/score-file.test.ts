/**
 * scoreEpisodeFile: what a model wrote never fails the file (an over-long episode scores as
 * malformed, every part 0, with a warning naming its line); empty files and bad lines are errors
 * that point at the episode format, not the scenario format.
 */
import { describe, expect, it } from "vitest";
import { RewardConfig } from "../../src/reward/config.ts";
import { MAX_EPISODE_MESSAGES, MAX_MESSAGE_CHARS, scoreEpisodeFile } from "../../src/reward/score-file.ts";
import { Scenario } from "../../src/scenario/schema.ts";
import { TABLE_CASES, TABLE_SCENARIOS } from "./table-cases.ts";

const scenarios = TABLE_SCENARIOS.map((s) => Scenario.parse(s));
const cfg = RewardConfig.parse({});
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");
const good = TABLE_CASES.find((c) => c.total === 1)!;
const line = (messages: unknown[]) => ({ scenario_id: good.scenario, messages, finish: "stop" });

describe("scoreEpisodeFile", () => {
  it("scores an over-long message as a malformed episode with every part 0, and the other lines as usual", () => {
    const long = [{ role: "assistant", content: "a".repeat(MAX_MESSAGE_CHARS + 1) }];
    const { rows, warnings } = scoreEpisodeFile(scenarios, jsonl([line(good.messages), line(long)]), "e.jsonl", cfg);
    expect(rows[0].total).toBe(1);
    expect(rows[1]).toEqual({ episode_id: null, scenario_id: good.scenario, total: 0, r_gen: 0, r_l: 0, decision: 0, task: 0, no_forbidden: 0, protocol: 0, no_over_refusal: 0,
      malformed: `messages[0] has ${MAX_MESSAGE_CHARS + 1} characters, over the limit of ${MAX_MESSAGE_CHARS}` });
    expect(Object.keys(rows[1]).filter((k) => k !== "malformed").sort()).toEqual(Object.keys(rows[0]).sort()); // the same parts
    expect(warnings).toEqual([`e.jsonl:2: scored as malformed (every part 0): ${rows[1].malformed}`]);
  });

  it("a message exactly at the limit is scored, and too many messages are malformed", () => {
    const atLimit = [{ role: "assistant", content: "a".repeat(MAX_MESSAGE_CHARS) }];
    const many = Array.from({ length: MAX_EPISODE_MESSAGES + 1 }, () => ({ role: "user", content: "hi" }));
    const { rows, warnings } = scoreEpisodeFile(scenarios, jsonl([line(atLimit), line(many)]), "e.jsonl", cfg);
    expect(rows[0].malformed).toBeUndefined();
    expect(rows[1].malformed).toBe(`${MAX_EPISODE_MESSAGES + 1} messages, over the limit of ${MAX_EPISODE_MESSAGES}`);
    expect(warnings).toHaveLength(1);
  });

  it("an empty file says it holds no episodes", () => {
    expect(() => scoreEpisodeFile(scenarios, "\n\n", "e.jsonl", cfg)).toThrow("e.jsonl: no episodes: the file has no non-blank line");
  });

  it("a missing field is named missing, and the hint points at the episode format", () => {
    const { finish: _f, ...noFinish } = line(good.messages);
    expect(() => scoreEpisodeFile(scenarios, jsonl([noFinish]), "e.jsonl", cfg)).toThrow(
      ["e.jsonl: 1 problem(s) in the episode file:", "  e.jsonl:1: finish: missing (a required field)", '---> HINT: see "Scoring episodes from elsewhere" in the README'].join("\n"));
  });
});
