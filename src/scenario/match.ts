/**
 * What it means for a call to match a `CallPattern` (SPEC §3): same tool name; each argument
 * listed in the pattern is present and equal, strings compared after trimming and case-folding,
 * numbers by value, arrays and objects element-wise by the same rules. Arguments the pattern
 * does not list are ignored (a subset match). `sameCall` is the two-way version: the call a
 * `<tool_check>` asked about versus the call made later.
 */
import type { JsonObject, JsonValue } from "./json-schema.ts";
import type { CallPattern } from "./schema.ts";

export type CallLike = { name: string; arguments: JsonObject };

function normalString(s: string): string {
  return s.trim().toLocaleLowerCase("en-US");
}

/** Loose equality of two JSON values under the rules above. */
export function looseEqual(a: JsonValue, b: JsonValue): boolean {
  if (typeof a === "string" && typeof b === "string") return normalString(a) === normalString(b);
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => looseEqual(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && looseEqual(a[k], b[k]));
  }
  return a === b;
}

/** True when `call` is an instance of `pattern` (subset match on arguments). */
export function matchesPattern(call: CallLike, pattern: CallPattern): boolean {
  if (call.name !== pattern.name) return false;
  const want = pattern.arguments ?? {};
  return Object.entries(want).every(([k, v]) => Object.hasOwn(call.arguments, k) && looseEqual(call.arguments[k], v));
}

/** True when two calls name the same tool with loosely equal arguments (both directions). */
export function sameCall(a: CallLike, b: CallLike): boolean {
  return a.name === b.name && looseEqual(a.arguments, b.arguments);
}
