/**
 * The episode environment a token-level sampler drives turn by turn (SPEC §2). `startEpisode`
 * gives the prompt (system message + the scenario's messages) and the tool list; `step` takes
 * one raw assistant turn and returns the environment's replies: tool results, a seeded yes/no
 * for a `<tool_check>`, or an error message for anything malformed. It enforces `maxTurns`,
 * records everything, and never throws on model output. It knows nothing about tokens; a
 * turn cut by the sampler's token limit is passed with `isTruncated`.
 */
import { assert } from "../util/assert.ts";
import type { Rng } from "../util/rng.ts";
import type { JsonObject } from "../scenario/json-schema.ts";
import type { Message, Scenario, World } from "../scenario/schema.ts";
import { resolveCall } from "./calls.ts";
import { parseTurn, type BlockParse, type ParsedTurn } from "./parse.ts";
import {
  LIMITS, SYSTEM_PROMPT, checkResultMessage, toQwenTools, toolErrorMessage, toolResultMessage,
  type CheckAnswer, type QwenTool,
} from "./protocol.ts";
import { runTool, type ToolHandler } from "./tools.ts";
import { createWorld, snapshotWorld, type WorldState } from "./world.ts";

export type Finish = "stop" | "length";

/** What `trirl score` reads: the messages after the scenario's own, and how the episode ended. */
export type Transcript = { messages: Message[]; finish: Finish };

/** A call as the sandbox saw it; name and arguments are undefined when they could not be read. */
export type CallRecord = { name: string | undefined; arguments: JsonObject | undefined; ok: boolean; output: string };
export type CheckRecord = {
  name: string | undefined;
  arguments: JsonObject | undefined;
  reason: string | undefined;
  /** Undefined when the check was invalid (then `error` says why) and no answer was drawn. */
  answer: CheckAnswer | undefined;
  error: string | undefined;
};
export type TurnRecord = {
  text: string;
  think: string | undefined;
  calls: CallRecord[];
  check: CheckRecord | undefined;
  errors: string[];
  isFinal: boolean;
};

/** The finished, typed episode: the transcript plus what the sandbox did and the final world. */
export type EpisodeRecord = Transcript & { scenarioId: string; turns: TurnRecord[]; world: World };

export type EpisodeOptions = {
  rng: Rng;
  /** Probability that a `<tool_check>` is answered "yes". */
  pYes: number;
  /** Assistant turns before the episode is cut with finish "length". */
  maxTurns: number;
  /** Programmatic tools by name; they take precedence over `returns` / `world`. */
  handlers?: Readonly<Record<string, ToolHandler>>;
  /** The system message; default `SYSTEM_PROMPT`, which explains the wire format in words. */
  systemPrompt?: string;
};

export type StepResult = { done: boolean; replies: Message[] };

export type EpisodeEnv = {
  readonly scenarioId: string;
  /** The prompt to render: the system message, then the scenario's messages. */
  readonly messages: readonly Message[];
  readonly tools: readonly QwenTool[];
  step(assistantText: string, opts?: { isTruncated?: boolean }): StepResult;
  /** Ends a live episode with finish "length" (the sampler ran out of tokens between turns). */
  truncate(): void;
  isDone(): boolean;
  transcript(): EpisodeRecord;
};

type EpisodeState = { scenario: Scenario; opts: EpisodeOptions; world: WorldState };

export function startEpisode(scenario: Scenario, opts: EpisodeOptions): EpisodeEnv {
  const { pYes, maxTurns } = opts;
  assert(pYes >= 0 && pYes <= 1, `pYes must be in [0, 1], got ${pYes}`);
  const isTurnsOk = Number.isInteger(maxTurns) && maxTurns >= 1 && maxTurns <= LIMITS.maxTurns;
  assert(isTurnsOk, `maxTurns must be an integer in [1, ${LIMITS.maxTurns}], got ${maxTurns}`);
  const state: EpisodeState = { scenario, opts, world: createWorld(scenario.world) };
  const messages: Message[] = [];
  const turns: TurnRecord[] = [];
  let finish: Finish | undefined;
  return {
    scenarioId: scenario.id,
    messages: [{ role: "system", content: opts.systemPrompt ?? SYSTEM_PROMPT }, ...scenario.messages],
    tools: toQwenTools(scenario.tools),
    step(assistantText, stepOpts) {
      assert(finish === undefined, `step() called after episode ${scenario.id} ended`);
      messages.push({ role: "assistant", content: assistantText });
      const parsed = parseTurn(assistantText);
      const turn: TurnRecord = {
        text: assistantText, think: parsed.think, calls: [], check: undefined, errors: parsed.errors, isFinal: parsed.isFinal,
      };
      turns.push(turn);
      if (stepOpts?.isTruncated === true || parsed.isFinal) {
        finish = stepOpts?.isTruncated === true ? "length" : "stop";
        return { done: true, replies: [] };
      }
      const replies = executeTurn(parsed, turn, state);
      messages.push(...replies);
      if (turns.length >= maxTurns) finish = "length";
      return { done: finish !== undefined, replies };
    },
    truncate() {
      finish ??= "length";
    },
    isDone: () => finish !== undefined,
    transcript() {
      assert(finish !== undefined, `transcript() of episode ${scenario.id} before it ended`);
      return { scenarioId: scenario.id, messages: [...messages], finish, turns: structuredClone(turns), world: snapshotWorld(state.world) };
    },
  };
}

/** The environment's replies to a non-final turn; fills in `turn`'s calls and check. */
function executeTurn(parsed: ParsedTurn, turn: TurnRecord, state: EpisodeState): Message[] {
  if (parsed.errors.length > 0) return [toolErrorMessage(`turn not executed: ${parsed.errors.join("; ")}`)];
  if (parsed.check !== undefined) {
    const check = answerCheck(parsed.check, state.scenario, state.opts.rng, state.opts.pYes);
    turn.check = check;
    return [check.answer === undefined ? toolErrorMessage(`invalid <tool_check>: ${check.error}`) : checkResultMessage(check.answer)];
  }
  return parsed.calls.map((block) => {
    const record = callTool(block, state);
    turn.calls.push(record);
    return record.ok ? toolResultMessage(record.output) : toolErrorMessage(record.output);
  });
}

function callTool(block: BlockParse, { scenario, opts, world }: EpisodeState): CallRecord {
  const resolved = resolveCall(block, scenario.tools);
  const handlers = opts.handlers;
  const base = { name: resolved.request?.name, arguments: resolved.request?.arguments };
  if (!resolved.ok) return { ...base, ok: false, output: resolved.error };
  const handler = handlers !== undefined && Object.hasOwn(handlers, resolved.tool.name) ? handlers[resolved.tool.name] : undefined;
  const result = runTool(resolved.tool, resolved.request.arguments, world, handler);
  return { ...base, ok: result.ok, output: result.ok ? result.content : result.error };
}

function answerCheck(block: BlockParse, scenario: Scenario, rng: Rng, pYes: number): CheckRecord {
  const resolved = resolveCall(block, scenario.tools);
  const base = { name: resolved.request?.name, arguments: resolved.request?.arguments, reason: block.reason };
  if (!resolved.ok) return { ...base, answer: undefined, error: resolved.error };
  return { ...base, answer: rng.next() < pYes ? "yes" : "no", error: undefined };
}
