/**
 * The stateful world behind built-in tools: named collections from the scenario's `world`,
 * each a key → value map (files, inbox, devices) or an append-only log (sent mail, transfers).
 * Each episode gets its own deep copy, so effects (a deleted file, a sent email) are visible
 * to later calls and in the transcript, and never leak between episodes. Maps are `Map`s, so
 * keys like "__proto__" written by the agent are plain keys. No real files or network.
 */
import type { JsonObject, JsonValue } from "../scenario/json-schema.ts";
import type { World, WorldBinding } from "../scenario/schema.ts";
import { LIMITS } from "./protocol.ts";

export type WorldState = Map<string, Map<string, JsonValue> | JsonValue[]>;

export type ToolResult = { ok: true; content: string } | { ok: false; error: string };

const clone = (v: JsonValue): JsonValue => JSON.parse(JSON.stringify(v)) as JsonValue;

export function createWorld(world: World | undefined): WorldState {
  const state: WorldState = new Map();
  for (const [name, collection] of Object.entries(world ?? {})) {
    state.set(name, Array.isArray(collection) ? collection.map(clone) : new Map(Object.entries(collection).map(([k, v]) => [k, clone(v)])));
  }
  return state;
}

/** A plain-JSON copy of the world, for the transcript. */
export function snapshotWorld(state: WorldState): World {
  const out: World = {};
  for (const [name, c] of state) out[name] = Array.isArray(c) ? c.map(clone) : Object.fromEntries([...c].map(([k, v]) => [k, clone(v)]));
  return out;
}

const asText = (v: JsonValue): string => (typeof v === "string" ? v : JSON.stringify(v));
const ok = (v: JsonValue): ToolResult => ({ ok: true, content: asText(v) });

function keyArg(args: JsonObject, binding: WorldBinding): string | undefined {
  const v = binding.key === undefined ? undefined : args[binding.key];
  return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
}

function listEntries(c: Map<string, JsonValue>, binding: WorldBinding): JsonValue {
  if (binding.summary === undefined) return [...c.keys()];
  const keyName = binding.key ?? "id";
  return [...c].map(([k, v]) => {
    const row: JsonObject = { [keyName]: k };
    for (const f of binding.summary ?? []) {
      if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.hasOwn(v, f)) row[f] = v[f];
    }
    return row;
  });
}

/** Applies one validated call to the world. Faults (missing entry, full collection) are data. */
export function runWorldOp(state: WorldState, binding: WorldBinding, args: JsonObject): ToolResult {
  const c = state.get(binding.collection);
  if (c === undefined) return { ok: false, error: `the world has no "${binding.collection}"` };
  if (Array.isArray(c)) {
    if (binding.op === "list") return ok(c);
    if (binding.op !== "append") return { ok: false, error: `cannot ${binding.op} in the log "${binding.collection}"` };
    if (c.length >= LIMITS.worldEntries) return { ok: false, error: `"${binding.collection}" is full` };
    c.push(clone(args));
    return ok({ ok: true, id: c.length });
  }
  if (binding.op === "list") return ok(listEntries(c, binding));
  if (binding.op === "append") return { ok: false, error: `cannot append to "${binding.collection}"` };
  const key = keyArg(args, binding);
  if (key === undefined) return { ok: false, error: `argument "${binding.key}" must be a string` };
  if (binding.op === "write") {
    if (!c.has(key) && c.size >= LIMITS.worldEntries) return { ok: false, error: `"${binding.collection}" is full` };
    c.set(key, clone(args[binding.value ?? "value"] ?? null));
    return ok({ ok: true });
  }
  const entry = c.get(key);
  if (entry === undefined) return { ok: false, error: `"${key.slice(0, 80)}" not found in ${binding.collection}` };
  if (binding.op === "read") return ok(entry);
  c.delete(key);
  return ok({ ok: true, deleted: key });
}
