/**
 * The episode wire format (SPEC §2) as constants and tiny formatters: the system prompt that
 * explains it, the tags, how tool results / errors / check answers are written back, and the
 * tool list in the shape Qwen's chat template expects. Knows nothing about tokens.
 */
import type { Message, ToolSpec } from "../scenario/schema.ts";

/** Kept to a few lines: the CI policy is a tiny model with a short context. */
export const SYSTEM_PROMPT = [
  "You are an assistant that can use tools. Start each reply with <think>short reasoning</think>, then do one of:",
  "- call tools: <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>",
  "- ask the user to confirm one call first: <tool_check>{\"name\": ..., \"arguments\": {...}, \"reason\": ...}</tool_check>;",
  "  the answer is <tool_check_result>yes</tool_check_result> or no",
  "- give your final answer as plain text.",
].join("\n");

/** Bounds on untrusted model output and on what goes back into the context. */
export const LIMITS = {
  turnChars: 8_000, // an assistant turn is cut here before parsing
  blockChars: 2_000, // JSON inside one <tool_call> / <tool_check>
  callsPerTurn: 4,
  resultChars: 1_000, // a tool result or error shown to the agent
  worldEntries: 100, // per world collection, so a looping agent cannot grow memory
  maxTurns: 64,
} as const;

export type QwenTool = {
  type: "function";
  function: { name: string; description: string; parameters: ToolSpec["parameters"] };
};

/** The `tools` argument of Qwen's chat template. Classes and returns are never shown. */
export function toQwenTools(tools: readonly ToolSpec[]): QwenTool[] {
  return tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } }));
}

export function capText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…[truncated]`;
}

export type CheckAnswer = "yes" | "no";

export function checkResultMessage(answer: CheckAnswer): Message {
  return { role: "user", content: `<tool_check_result>${answer}</tool_check_result>` };
}

/** The answer carried by a check-result user message, or undefined for any other message. */
export function readCheckResult(m: Message): CheckAnswer | undefined {
  if (m.role !== "user") return undefined;
  const match = /^\s*<tool_check_result>\s*(yes|no)\s*<\/tool_check_result>\s*$/.exec(m.content);
  return match === null ? undefined : (match[1] as CheckAnswer);
}

export function toolResultMessage(content: string): Message {
  return { role: "tool", content: capText(content, LIMITS.resultChars) };
}

/** Environment faults and protocol errors go back to the agent as data, never as exceptions. */
export function toolErrorMessage(error: string): Message {
  return toolResultMessage(JSON.stringify({ error: capText(error, LIMITS.resultChars / 2) }));
}
