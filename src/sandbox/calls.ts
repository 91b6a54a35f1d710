/**
 * Checks a parsed call against the scenario's tools: the name must be offered and the
 * arguments must satisfy the tool's JSON Schema. Shared by the sandbox (what it executes)
 * and the reward (what counts as a well-formed call), so the two can never disagree.
 */
import { schemaErrors } from "../scenario/json-schema.ts";
import type { ToolSpec } from "../scenario/schema.ts";
import type { BlockParse, CallRequest } from "./parse.ts";

export type ResolvedCall = { ok: true; request: CallRequest; tool: ToolSpec } | { ok: false; request?: CallRequest; error: string };

export function resolveCall(block: BlockParse, tools: readonly ToolSpec[]): ResolvedCall {
  const request = block.request;
  if (block.error !== undefined || request === undefined) return { ok: false, request, error: block.error ?? "unreadable call" };
  const tool = tools.find((t) => t.name === request.name);
  if (tool === undefined) {
    const known = tools.map((t) => t.name).join(", ");
    return { ok: false, request, error: `unknown tool "${request.name}"; available: ${known}` };
  }
  const errors = schemaErrors(request.arguments, tool.parameters);
  if (errors.length > 0) return { ok: false, request, error: `invalid arguments for "${tool.name}": ${errors.join("; ")}` };
  return { ok: true, request, tool };
}
