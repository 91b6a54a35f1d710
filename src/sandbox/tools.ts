/**
 * Executes one validated tool call: a custom handler if the caller registered one, else the
 * tool's world binding, else its fixed `returns` (string leaves may use `{{argument}}`
 * placeholders). Never throws for tool faults: a throwing handler becomes an error result.
 * Results are capped by the caller when they are written back to the agent.
 */
import type { JsonObject, JsonValue } from "../scenario/json-schema.ts";
import type { ToolSpec } from "../scenario/schema.ts";
import { LIMITS, capText } from "./protocol.ts";
import { runWorldOp, type ToolResult, type WorldState } from "./world.ts";

/** Plug-in point for a programmatic tool: synchronous, pure apart from `world`. */
export type ToolHandler = (args: JsonObject, world: WorldState) => ToolResult;

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function fillTemplate(text: string, args: JsonObject): string {
  return text.replace(PLACEHOLDER_RE, (_, name: string) => {
    if (!Object.hasOwn(args, name)) return "";
    const v = args[name];
    return capText(typeof v === "string" ? v : JSON.stringify(v), 200);
  });
}

/** Fills placeholders in every string leaf of a fixed `returns` value. */
export function renderReturns(value: JsonValue, args: JsonObject): JsonValue {
  if (typeof value === "string") return fillTemplate(value, args);
  if (Array.isArray(value)) return value.map((v) => renderReturns(v, args));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderReturns(v, args)]));
  }
  return value;
}

export function runTool(tool: ToolSpec, args: JsonObject, world: WorldState, handler?: ToolHandler): ToolResult {
  if (handler !== undefined) {
    try {
      const result = handler(args, world);
      return result.ok ? { ok: true, content: capText(result.content, LIMITS.resultChars) } : result;
    } catch (error) {
      return { ok: false, error: `tool "${tool.name}" failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  if (tool.world !== undefined) return runWorldOp(world, tool.world, args);
  const out = renderReturns(tool.returns ?? null, args);
  return { ok: true, content: typeof out === "string" ? out : JSON.stringify(out) };
}
