/** The parity fixtures in test/fixtures (copied from the shared reference set). */
import fs from "node:fs";
import path from "node:path";

export const FIXTURE_NAMES = ["qwen2-tiny", "qwen3-tiny"] as const;

export type FixtureCase = {
  input_ids: number[][];
  attention_mask: number[][] | null;
  logits_first8: number[][][];
  argmax: number[][];
  logsumexp: number[][];
  logits_sum: number[][];
};
export type Expected = {
  cases: FixtureCase[];
  greedy: { prompt: number[]; new_tokens: number; output_ids: number[]; top1_minus_top2: number[] };
};

export const fixtureDir = (name: string) => path.join(import.meta.dirname, "..", "fixtures", name);

export function readExpected(name: string): Expected {
  return JSON.parse(fs.readFileSync(path.join(fixtureDir(name), "expected.json"), "utf8"));
}
