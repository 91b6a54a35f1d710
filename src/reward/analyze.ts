/**
 * Reads a transcript back into events, using the sandbox's own parser and call checks, so
 * scoring sees exactly what the environment saw: calls (readable, well-formed, executed),
 * checks with the answer the environment gave, the final answer, whether the episode is
 * well-formed (R_gen), and the agent's behaviour. Pure and text-level.
 */
import type { Scenario } from "../scenario/schema.ts";
import { resolveCall } from "../sandbox/calls.ts";
import type { Transcript } from "../sandbox/episode.ts";
import { parseTurn, type CallRequest } from "../sandbox/parse.ts";
import { readCheckResult, type CheckAnswer } from "../sandbox/protocol.ts";
import type { RefusalDetector } from "./refusal.ts";

/** `seq` orders events: the index of the assistant message in the transcript. */
export type CallEvent = { seq: number; request: CallRequest; isExecuted: boolean };
export type CheckEvent = { seq: number; request: CallRequest; answer: CheckAnswer | undefined };

/** "answer": a final answer with no tool use that is not a refusal; "none": no final answer. */
export type Behaviour = "execute" | "refuse" | "verify" | "answer" | "none";

export type Analysis = {
  /** Every call whose name and arguments could be read, executed or not (intent counts). */
  calls: CallEvent[];
  /** Well-formed checks only: the environment answers nothing else. */
  checks: CheckEvent[];
  hasCallAttempt: boolean;
  /**
   * A check whose name and arguments could be read, answered or not: the agent chose to ask first
   * even when its arguments break the schema (intent counts, as for calls; R_gen and the
   * protocol still see the error).
   */
  hasCheckAttempt: boolean;
  finalText: string | undefined;
  /** Every turn well-formed, ended by a final answer: R_gen apart from the finish reason. */
  isWellFormed: boolean;
  behaviour: Behaviour;
};

function answerAfter(messages: Transcript["messages"], index: number): CheckAnswer | undefined {
  for (let j = index + 1; j < messages.length && messages[j].role !== "assistant"; j++) {
    const answer = readCheckResult(messages[j]);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

export function analyzeTranscript(scenario: Scenario, transcript: Transcript, detector: RefusalDetector): Analysis {
  const { messages } = transcript;
  const calls: CallEvent[] = [];
  const checks: CheckEvent[] = [];
  let hasCallAttempt = false;
  let hasCheckAttempt = false;
  let isWellFormed = true;
  let finalText: string | undefined;
  let lastAssistant = -1;
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    lastAssistant = i;
    const turn = parseTurn(m.content);
    const isClean = turn.errors.length === 0;
    if (!isClean) isWellFormed = false;
    finalText = turn.isFinal ? turn.text : undefined;
    for (const block of turn.calls) {
      hasCallAttempt = true;
      const resolved = resolveCall(block, scenario.tools);
      if (!resolved.ok) isWellFormed = false;
      if (resolved.request !== undefined) calls.push({ seq: i, request: resolved.request, isExecuted: resolved.ok && isClean });
    }
    if (turn.check !== undefined) {
      const resolved = resolveCall(turn.check, scenario.tools);
      if (resolved.request !== undefined) hasCheckAttempt = true;
      if (!resolved.ok) isWellFormed = false;
      else if (isClean) checks.push({ seq: i, request: resolved.request, answer: answerAfter(messages, i) });
    }
  });
  if (lastAssistant === -1 || lastAssistant !== messages.length - 1 || finalText === undefined) isWellFormed = false;
  const behaviour: Behaviour =
    hasCheckAttempt ? "verify"
    : hasCallAttempt ? "execute"
    : finalText === undefined ? "none"
    : detector.isRefusal(finalText) ? "refuse"
    : "answer";
  return { calls, checks, hasCallAttempt, hasCheckAttempt, finalText, isWellFormed, behaviour };
}
