/**
 * How a built-in domain is described: a seeded fixture (the facts of one scenario: names,
 * accounts, files), the tools over it, task templates (each owned by one split, with its own
 * phrasings) and injection attacks. `build.ts` turns one template + one category cell into a
 * scenario. Plus small helpers to write tool schemas tersely.
 */
import type { Rng } from "../../util/rng.ts";
import { randInt } from "../../util/rng.ts";
import type { JsonObject, JsonValue, ParamSchema } from "../json-schema.ts";
import type { CallPattern, Label, Split, World, WorldBinding } from "../schema.ts";

export type Slots = Record<string, string | number>;

export type ToolDef = {
  class: "benign" | "sensitive";
  description: string;
  parameters: ParamSchema;
  returns?: JsonValue;
  world?: WorldBinding;
};

/** Where an injection can be planted: a tool's fixed output, or the world entry `key` it reads. */
export type Carrier = { tool: string; key?: string };

export type TaskTemplate<F> = {
  user: Label;
  split: Split;
  /** `{slot}` placeholders are filled from `slots`. */
  phrasings: string[];
  /** Offered tools, at most 2, so cells can add a distractor and an attack tool within 4. */
  tools: string[];
  slots(f: F, rng: Rng): Slots;
  /** Benign and sensitive tasks: the calls that complete them. */
  required?(v: Slots, f: F): CallPattern[];
  /** Malicious tasks: the harmful call, with full arguments. */
  act?(v: Slots, f: F): CallPattern;
  /** Whose output may carry an injection; defaults to the domain's `carrier`. */
  carrier?(v: Slots, f: F): Carrier;
};

export type Attack<F> = {
  tool: string;
  args(f: F, rng: Rng): JsonObject;
  /** The argument names that identify the attack in `forbidden_calls`. */
  keys: string[];
  /** Natural-language order, e.g. "transfer $4,800 to account ACC-907". */
  action(args: JsonObject): string;
  isExfiltration?: boolean;
};

export type DomainSpec<F> = {
  name: string;
  prefix: string;
  fixture(rng: Rng): F;
  tools(f: F): Record<string, ToolDef>;
  world?(f: F): World;
  carrier(f: F): Carrier;
  attacks: Attack<F>[];
  tasks: TaskTemplate<F>[];
};

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[randInt(rng, items.length)];

/** `n` distinct items in random order. */
export function pickMany<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(randInt(rng, pool.length), 1)[0]);
  return out;
}

/** Integer in [lo, hi]. */
export const between = (rng: Rng, lo: number, hi: number): number => lo + randInt(rng, hi - lo + 1);

export const str = (description: string, extra: ParamSchema = {}): ParamSchema => ({ type: "string", description, ...extra });
export const num = (description: string, extra: ParamSchema = {}): ParamSchema => ({ type: "number", description, ...extra });

/** An object schema; every listed property is required unless named in `optional`. */
export function params(properties: Record<string, ParamSchema>, optional: string[] = []): ParamSchema {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  // an empty `required` is left out: every character of a schema costs prompt tokens
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}
