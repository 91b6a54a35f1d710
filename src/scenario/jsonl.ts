/**
 * JSONL files at the boundary: one JSON object per line, each validated with a zod schema.
 * Every bad line is reported with file, line number and the field at fault, and the good
 * lines are kept, so one typo does not hide the rest of the file. `loadScenarios` throws
 * one Error that lists all problems; `parseScenarioJsonl` returns them as data (for
 * `trirl scenarios validate`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { z } from "zod";
import { Scenario } from "./schema.ts";

export type JsonlLine<T> = { line: number; value: T };
export type JsonlResult<T> = { items: JsonlLine<T>[]; errors: string[] };

const MAX_LISTED_ERRORS = 20;

/** `["tools", 2, "name"]` → `tools[2].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out === "" ? "" : "."}${String(p)}`;
  return out === "" ? "(line)" : out;
}

/** zod names an absent field by what it expected ("Invalid option: …"); say that it is missing. */
const NAME_MISSING_FIELDS = { error: (issue: { input?: unknown }) => (issue.input === undefined ? "missing (a required field)" : undefined) };

/** Parses and validates each non-blank line of `text`; `file` only names the source in errors. */
export function parseJsonl<S extends z.ZodType>(text: string, file: string, schema: S): JsonlResult<z.output<S>> {
  const items: JsonlLine<z.output<S>>[] = [];
  const errors: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      errors.push(`${file}:${line}: not valid JSON (${(error as Error).message})`);
      return;
    }
    const parsed = schema.safeParse(json, NAME_MISSING_FIELDS);
    if (parsed.success) items.push({ line, value: parsed.data });
    else for (const issue of parsed.error.issues) errors.push(`${file}:${line}: ${formatPath(issue.path)}: ${issue.message}`);
  });
  return { items, errors };
}

/** Scenario lines plus the file-level rule that ids are unique. */
export function parseScenarioJsonl(text: string, file: string): JsonlResult<Scenario> {
  const result = parseJsonl(text, file, Scenario);
  const firstLine = new Map<string, number>();
  for (const { line, value } of result.items) {
    const seen = firstLine.get(value.id);
    if (seen !== undefined) result.errors.push(`${file}:${line}: id: "${value.id}" already used on line ${seen}`);
    else firstLine.set(value.id, line);
  }
  return result;
}

/** What a JSONL file holds, for its messages: "scenario" → "the scenario file", hint → its README section. */
export type JsonlKind = { what: string; readmeSection: string };
export const SCENARIO_FILE: JsonlKind = { what: "scenario", readmeSection: "Scenario format" };

/**
 * Throws one Error naming every bad line (up to a limit), with a hint; or, when the file has no
 * line at all, one saying so (an empty input is a mistake, never a silent success).
 */
export function throwIfErrors(result: JsonlResult<unknown>, file: string, kind: JsonlKind): void {
  const { errors } = result;
  const hint = `---> HINT: see "${kind.readmeSection}" in the README`;
  if (errors.length === 0 && result.items.length === 0) throw new Error(`${file}: no ${kind.what}s: the file has no non-blank line\n${hint}`);
  if (errors.length === 0) return;
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  ${e}`);
  if (errors.length > MAX_LISTED_ERRORS) listed.push(`  … and ${errors.length - MAX_LISTED_ERRORS} more`);
  throw new Error(`${file}: ${errors.length} problem(s) in the ${kind.what} file:\n${listed.join("\n")}\n${hint}`);
}

export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Loads a scenario JSONL file; throws if any line is bad or the file cannot be read. */
export function loadScenarios(path: string): Scenario[] {
  const result = parseScenarioJsonl(readTextFile(path), path);
  throwIfErrors(result, path, SCENARIO_FILE);
  return result.items.map((i) => i.value);
}

/** Writes scenarios as JSONL (one object per line, defaults filled in). */
export function saveScenarios(path: string, scenarios: readonly Scenario[]): void {
  writeFileSync(path, scenarios.map((s) => JSON.stringify(s)).join("\n") + (scenarios.length > 0 ? "\n" : ""));
}
