/**
 * Where the benchmark data lives and how it is read: `--data DIR` (a folder holding
 * `injecagent/`, `bfcl/`, `agent-safetybench/`, or one benchmark's own folder), else
 * `../shared/benchmarks` from the working directory. The data is read in place, never copied.
 * A missing folder or unreadable file is an Error naming the path; a malformed record is not an
 * error here: loaders turn it into an invalid case with a reason.
 */
import fs from "node:fs";
import path from "node:path";

export const BENCHMARK_NAMES = ["injecagent", "bfcl", "agent-safetybench"] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

/** Relative to the working directory. */
export const DEFAULT_DATA_DIR = path.join("..", "shared", "benchmarks");

/** A file each benchmark's folder must hold, used to recognise it. */
const MARKER_FILE: Record<BenchmarkName, string> = {
  injecagent: "tools.json",
  bfcl: "BFCL_v4_simple_python.json",
  "agent-safetybench": "released_data.json",
};

const HINT = "---> HINT: pass --data DIR, a folder with injecagent/, bfcl/ and agent-safetybench/ (or one of them)";

/**
 * The folder of one benchmark. `given` is `--data` (undefined: the default); `cwd` resolves both.
 * @throws Error naming every place looked at when none holds the benchmark.
 */
export function benchmarkDir(name: BenchmarkName, given: string | undefined, cwd: string): string {
  const root = path.resolve(cwd, given ?? DEFAULT_DATA_DIR);
  if (!fs.existsSync(root)) {
    const what = given === undefined ? `the default data folder ${DEFAULT_DATA_DIR} (${root})` : `--data ${given} (${root})`;
    throw new Error(`${name}: ${what} does not exist\n${HINT}`);
  }
  const candidates = [path.join(root, name), root];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, MARKER_FILE[name])));
  if (found === undefined) {
    const looked = candidates.map((dir) => path.join(dir, MARKER_FILE[name])).join(" or ");
    throw new Error(`${name}: no benchmark data in ${root}: looked for ${looked}\n${HINT}`);
  }
  return found;
}

/** Parses a whole JSON file. @throws Error naming the file. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error(`${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** Non-empty lines of a JSON Lines file with their 1-based numbers. @throws Error naming the file. */
export function readLines(file: string): { line: number; text: string }[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  return text.split("\n").flatMap((t, i) => (t.trim() === "" ? [] : [{ line: i + 1, text: t }]));
}

/**
 * Up to `max` items drawn from `groups` (files, categories): an equal share of each group (earlier
 * groups take the remainder), evenly spaced within the group so a small run sees its whole range.
 * `max` undefined keeps everything. Order: group by group, in file order.
 */
export function spreadSelect<T>(groups: readonly (readonly T[])[], max: number | undefined): T[][] {
  if (max === undefined) return groups.map((g) => [...g]);
  const share = Math.floor(max / groups.length);
  return groups.map((g, i) => {
    const k = Math.min(g.length, share + (i < max % groups.length ? 1 : 0));
    return Array.from({ length: k }, (_, j) => g[Math.floor((j * g.length) / k)]);
  });
}
