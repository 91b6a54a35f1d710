/**
 * Two run folders of the same config on different backends, side by side (not a test): for every
 * numeric field of metrics.jsonl (timings and live tensors left out), validation.jsonl and the eval
 * reports, the largest |a − b|; and the largest difference of the final adapter's weights.
 *   npx tsx bench/compare-runs.ts runs/wasm-check runs/webgpu-check
 */
import fs from "node:fs";
import path from "node:path";
import { openSafetensors } from "../src/model/safetensors.ts";

const [a, b] = process.argv.slice(2);
if (!a || !b) throw new Error("usage: compare-runs.ts RUN_A RUN_B");

/** path → number of every numeric leaf. */
function leaves(x: unknown, prefix: string, out: Map<string, number>): Map<string, number> {
  if (typeof x === "number") out.set(prefix, x);
  else if (x && typeof x === "object") for (const [k, v] of Object.entries(x)) if (k !== "seconds" && k !== "live_tensors") leaves(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

const lines = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const report: Record<string, { max_abs_diff: number; where: string; fields: number }> = {};
for (const file of ["metrics.jsonl", "validation.jsonl", "eval_before.json", "eval_after.json"]) {
  const [x, y] = [a, b].map((d) => leaves(file.endsWith("l") ? lines(d, file) : JSON.parse(fs.readFileSync(path.join(d, file), "utf8")), "", new Map()));
  let worst = { max_abs_diff: 0, where: "", fields: x.size };
  for (const [k, v] of x) {
    const d = Math.abs(v - (y.get(k) ?? NaN));
    if (!(d <= worst.max_abs_diff)) worst = { ...worst, max_abs_diff: d, where: k };
  }
  report[file] = worst;
}
const weights = [a, b].map((d) => openSafetensors(path.join(d, "checkpoint", "adapter", "adapter_model.safetensors")));
let maxW = 0;
let maxAbs = 0;
for (const name of weights[0].entries.keys()) {
  const [u, v] = weights.map((w) => w.read(name));
  u.forEach((x, i) => ((maxW = Math.max(maxW, Math.abs(x - v[i]))), (maxAbs = Math.max(maxAbs, Math.abs(x)))));
}
weights.forEach((w) => w.close());
console.log(JSON.stringify({ ...report, "checkpoint/adapter": { max_abs_diff: maxW, max_abs_weight: maxAbs } }, null, 2));
