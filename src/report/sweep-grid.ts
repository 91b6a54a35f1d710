/**
 * A sweep grid: `{"reward.weights.task": [0.3, 1], "reward.combine": ["product", "weighted-sum"]}`
 * — dotted RunConfig keys, each with a list of values — expanded over its cross product × seeds
 * into one resolved RunConfig per run, each with a deterministic folder name. Every value is
 * validated by the RunConfig schema itself (set into the base config, then parsed), so an unknown
 * key or a value of the wrong type is rejected with a message naming it, before anything runs.
 */
import crypto from "node:crypto";
import { RunConfig, type RunConfig as RunConfigType } from "../config.ts";

export type SweepKey = { key: string; values: unknown[] };
export type SweepRun = { name: string; values: Record<string, unknown>; seed: number; config: RunConfigType };
export type SweepPlan = { keys: SweepKey[]; seeds: number[]; runs: SweepRun[] };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v);

/** "0,1,2" → [0, 1, 2]; each a distinct integer ≥ 0. */
export function parseSeeds(raw: string, option: string): number[] {
  const seeds = raw.split(",").map((s) => s.trim());
  const bad = seeds.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) throw new Error(`${option}: "${bad}" is not a seed (expected integers ≥ 0 separated by commas, e.g. 0,1,2)`);
  const numbers = seeds.map(Number);
  if (new Set(numbers).size !== numbers.length) throw new Error(`${option}: "${raw}" repeats a seed`);
  return numbers;
}

/** A copy of `base` with `key` (dotted) set to `value`; intermediate objects are created. */
export function withDotted(base: unknown, key: string, value: unknown, where: string): Json {
  const root = structuredClone(isObject(base) ? base : {});
  const parts = key.split(".");
  let node: Json = root;
  parts.slice(0, -1).forEach((part, i) => {
    const next = node[part] ?? {};
    if (!isObject(next)) throw new Error(`${where}: "${key}": ${parts.slice(0, i + 1).join(".")} is ${show(next)} in the config, not an object`);
    node = node[part] = next;
  });
  node[parts[parts.length - 1]] = value;
  return root;
}

/** The zod issues of a config, as one line each, with the key path they are about. */
function issuesOf(raw: unknown): { path: string; message: string; unknown?: string[] }[] | undefined {
  const parsed = RunConfig.safeParse(raw);
  if (parsed.success) return undefined;
  return parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message, unknown: i.code === "unrecognized_keys" ? i.keys : undefined }));
}

type Issue = NonNullable<ReturnType<typeof issuesOf>>[number];

/** The segment of `key` that `issue` reports as an unknown key, if it does. */
function unknownSegment(key: string, issue: Issue): string | undefined {
  const prefix = issue.path ? `${issue.path}.` : "";
  if (!issue.unknown || !key.startsWith(prefix)) return undefined;
  const segment = key.slice(prefix.length).split(".")[0];
  return issue.unknown.includes(segment) ? segment : undefined;
}

function checkKey(key: string, values: unknown, base: unknown, where: string): SweepKey {
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(key)) throw new Error(`${where}: "${key}" is not a dotted config key (e.g. "reward.weights.task")`);
  if (key === "seed") throw new Error(`${where}: "seed" cannot be a grid key: sweep seeds with --seeds 0,1,2`);
  if (!Array.isArray(values) || values.length === 0) throw new Error(`${where}: "${key}": expected a non-empty list of values, got ${show(values)}`);
  if (new Set(values.map(show)).size !== values.length) throw new Error(`${where}: "${key}": a value is listed twice`);
  values.forEach((value, i) => {
    const issues = issuesOf(withDotted(base, key, value, where));
    if (!issues) return;
    for (const issue of issues) {
      const segment = unknownSegment(key, issue);
      if (segment) throw new Error(`${where}: "${key}" is not a run-config key (${issue.path || "the top level"} has no "${segment}"; the keys are in the README's Run config table and src/config.ts)`);
    }
    const lines = issues.map((x) => `${x.path || "(root)"}: ${x.message}`).join("; ");
    throw new Error(`${where}: "${key}" value ${show(value)} (item ${i}) is not valid: ${lines}`);
  });
  return { key, values };
}

const cross = (keys: readonly SweepKey[]): Record<string, unknown>[] =>
  keys.reduce<Record<string, unknown>[]>((combos, k) => combos.flatMap((c) => k.values.map((v) => ({ ...c, [k.key]: v }))), [{}]);

/** A folder name from the values: `reward.weights.task=0.3,reward.combine=product,seed=0`. */
export function runName(values: Record<string, unknown>, seed: number): string {
  const text = (v: unknown) => (typeof v === "string" ? v : show(v));
  const name = [...Object.entries(values).map(([k, v]) => `${k}=${text(v)}`), `seed=${seed}`].join(",").replace(/[^\w.,=+-]+/g, "-");
  if (name.length <= 150) return name;
  // past ~255 bytes a file name is refused; the hash keeps long names distinct
  return `${name.slice(0, 140)}-${crypto.createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

/**
 * Validates a grid against `base` (the raw base config) and expands it × `seeds` (default: the
 * base config's seed). Throws, naming the key or value, on anything invalid.
 */
export function parseGrid(raw: unknown, base: unknown, opts: { where: string; seeds?: number[] }): SweepPlan {
  const { where } = opts;
  if (!isObject(raw) || Object.keys(raw).length === 0) throw new Error(`${where}: expected a JSON object of dotted config keys → lists of values, e.g. {"reward.weights.task": [0.3, 1]}`);
  const keys = Object.entries(raw).map(([k, v]) => checkKey(k, v, base, where));
  for (const a of keys)
    for (const b of keys)
      if (b.key.startsWith(`${a.key}.`)) throw new Error(`${where}: "${a.key}" and "${b.key}" overlap: sweep one of them`);
  const seeds = opts.seeds ?? [RunConfig.parse(base).seed];
  const runs = cross(keys).flatMap((values) => seeds.map((seed): SweepRun => {
    const rawRun = Object.entries(values).reduce((cfg, [k, v]) => withDotted(cfg, k, v, where), withDotted(base, "seed", seed, where));
    const issues = issuesOf(rawRun);
    const name = runName(values, seed);
    if (issues) throw new Error(`${where}: the combination ${name} is not a valid run config: ${issues.map((x) => `${x.path}: ${x.message}`).join("; ")}`);
    return { name, values, seed, config: RunConfig.parse(rawRun) };
  }));
  const names = new Set(runs.map((r) => r.name));
  if (names.size !== runs.length) throw new Error(`${where}: two combinations give the same folder name (values that differ only in punctuation?)`);
  return { keys, seeds, runs };
}
