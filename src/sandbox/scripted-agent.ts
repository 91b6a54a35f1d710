/**
 * A scripted reference agent: plays one behaviour (execute / refuse / verify) on a scenario
 * through the real environment, so tool results and check answers are real, writing short
 * turns in the exact wire format. With the scenario's expected decision it earns full reward;
 * the trainer uses it for a supervised warm start and tests use it for the reward table.
 * It reads `expected` and the user label (an oracle): required calls, else the first forbidden
 * call it can make. The first reasoning line names the action the request is about, judges the
 * request, then decides for the whole plan:
 *   "send_email: a safe request. I will call it, after search_contacts."
 *   "transfer_money: a risky action. I ask first."  (then the check, then the calls in order)
 * The judgement is the scenario's label in words and the decision is the behaviour asked for, so
 * an agent played with a label-blind behaviour says what the request is and then does something
 * else: the gap between knowing and doing that RL closes (README, "The smoke run's warm start: knowing apart from doing").
 */
import { randInt } from "../util/rng.ts";
import type { JsonObject, JsonValue, ParamSchema } from "../scenario/json-schema.ts";
import type { CallPattern, Decision, Label, Scenario, ToolSpec } from "../scenario/schema.ts";
import { startEpisode, type EpisodeEnv, type EpisodeOptions, type EpisodeRecord } from "./episode.ts";
import type { CallRequest } from "./parse.ts";
import { readCheckResult } from "./protocol.ts";

const REFUSALS = [
  "I can't help with that: it could hurt someone.",
  "I won't do this. It is harmful, so I must decline.",
  "Sorry, but I can't assist with this request.",
];

function exampleValue(schema: ParamSchema | undefined, text: string): JsonValue {
  if (schema?.default !== undefined) return schema.default;
  if (schema?.enum !== undefined) return schema.enum[0];
  switch (schema?.type) {
    case "number":
    case "integer":
      return Math.max(1, schema.minimum ?? 1);
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return text;
  }
}

/**
 * The pattern's arguments, plus values for required parameters it leaves out: schema
 * defaults or enum values, else `text` (the user's request, e.g. as a search query).
 */
export function completeCall(pattern: CallPattern, tool: ToolSpec | undefined, text = "example"): CallRequest {
  const args: JsonObject = { ...(pattern.arguments ?? {}) };
  for (const key of tool?.parameters.required ?? []) {
    if (!Object.hasOwn(args, key)) args[key] = exampleValue(tool?.parameters.properties?.[key], text);
  }
  return { name: pattern.name, arguments: args };
}

/** Required calls for a task; for a harmful request, the harmful call itself (most specific pattern first). */
export function plannedCalls(s: Scenario): CallRequest[] {
  const toolOf = (name: string) => s.tools.find((t) => t.name === name);
  const request = s.messages[s.messages.length - 1].content.slice(0, 80);
  if (s.expected.required_calls.length > 0) return s.expected.required_calls.map((p) => completeCall(p, toolOf(p.name), request));
  const offered = s.expected.forbidden_calls.filter((p) => toolOf(p.name) !== undefined);
  const act = offered.find((p) => p.arguments !== undefined) ?? offered[0] ?? { name: s.tools[0].name };
  return [completeCall(act, toolOf(act.name), request)];
}

const callJson = (c: CallRequest) => JSON.stringify({ name: c.name, arguments: c.arguments });

/** The request, judged in words: the user label. */
export const JUDGEMENT: Readonly<Record<Label, string>> = { benign: "a safe request", sensitive: "a risky action", malicious: "a harmful request" };
/** The plan, in words. */
export const PLAN: Readonly<Record<Decision, string>> = { execute: "I will call it", verify: "I ask first", refuse: "I refuse" };

/** Runs `behaviour` on `scenario` and returns the finished episode. */
export function scriptedEpisode(scenario: Scenario, behaviour: Decision, opts: EpisodeOptions): EpisodeRecord {
  const env = startEpisode(scenario, opts);
  const calls = plannedCalls(scenario);
  const goal = calls[calls.length - 1]; // the action the request is about; earlier calls prepare it
  const judged = `${goal.name}: ${JUDGEMENT[scenario.user]}.`;
  if (behaviour === "refuse") {
    env.step(`<think>${judged} ${PLAN.refuse}.</think>${REFUSALS[randInt(opts.rng, REFUSALS.length)]}`);
    return env.transcript();
  }
  const isSensitive = (c: CallRequest) =>
    scenario.expected.verify_before.includes(c.name) || scenario.tools.find((t) => t.name === c.name)?.class === "sensitive";
  // verifying asks first, in the first turn, for the first sensitive call (or the first call when
  // none is), before any call that prepares it: the decision shows where the plan is stated, not
  // after a preparing call the weak model may end the episode on
  const first = behaviour === "verify" ? Math.max(0, calls.findIndex(isSensitive)) : -1;
  const toCheck = calls.map((c, i) => behaviour === "verify" && i !== first && isSensitive(c));
  const declined = new Set<number>();
  const plan = `${judged} ${PLAN[behaviour]}`;
  // the first line decides for the whole plan: "send_email: a risky action. I ask first." or
  // "send_email: a safe request. I will call it, after search_contacts."
  const firstThink = behaviour === "verify" || calls.length === 1 ? `${plan}.` : `${plan}, after ${calls[0].name}.`;
  if (first >= 0) {
    const answer = ask(env, calls[first], firstThink);
    if (answer === undefined) return env.transcript();
    if (answer === "no") declined.add(first);
  }
  for (const [i, call] of calls.entries()) {
    if (declined.has(i)) continue;
    if (toCheck[i] && ask(env, call) !== "yes") {
      if (env.isDone()) return env.transcript();
      declined.add(i);
      continue;
    }
    const think = i === 0 && first < 0 ? firstThink : `${call.name}: ${PLAN.execute}.`;
    const { done } = env.step(`<think>${think}</think>\n<tool_call>${callJson(call)}</tool_call>`);
    if (done) return env.transcript();
  }
  if (declined.size > 0) {
    // a declined call is skipped, the rest of the request still done
    const names = [...declined].map((i) => calls[i].name).join(", ");
    if (!env.isDone()) env.step(`<think>The user said no.</think>Understood: I did not call ${names}.`);
    return env.transcript();
  }
  // short on purpose: copying tool output verbatim is what a tiny warm-started model learns slowest
  env.step(`<think>I have what I need.</think>Done: I used ${[...new Set(calls.map((c) => c.name))].join(", ")}.`);
  return env.transcript();
}

/** `think`: the turn's reasoning line (default: the call and the plan to ask first). */
function ask(env: EpisodeEnv, call: CallRequest, think = `${call.name}: ${PLAN.verify}.`): "yes" | "no" | undefined {
  const check = JSON.stringify({ name: call.name, arguments: call.arguments, reason: "This action needs your approval." });
  const { done, replies } = env.step(`<think>${think}</think>\n<tool_check>${check}</tool_check>`);
  return done ? undefined : replies.map(readCheckResult).find((a) => a !== undefined);
}
