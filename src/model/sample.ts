/**
 * Draws one token from one row of logits: temperature, top-k, top-p (nucleus), seeded RNG;
 * temperature 0 is greedy. Plain JS over a Float32Array: the row has already been read back.
 * The returned log-prob is under softmax(logits / temperature) — the distribution the trainer
 * recomputes — before top-k/top-p truncation; at temperature 0 it is under softmax(logits).
 */
import type { Rng } from "../util/rng.ts";

export type SamplingOptions = {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches topP; 1 = off. */
  topP: number;
};

export type SampledToken = { token: number; logprob: number };

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** log Σ exp(values · scale), max-subtracted so logits like ±1000 stay finite. */
export function logSumExp(values: ArrayLike<number>, scale = 1): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] * scale);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] * scale - max);
  return max + Math.log(sum);
}

/** Value of the k-th largest element (1-based), by quickselect on a copy: O(V). */
function kthLargest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) [a[i], a[j], i, j] = [a[j], a[i], i + 1, j - 1];
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** Candidate ids with their unnormalised weights, after top-k and top-p. */
function candidates(logits: Float32Array, opts: SamplingOptions): { ids: number[]; weights: number[] } {
  const invT = 1 / opts.temperature;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] * invT);
  const kth = opts.topK > 0 && opts.topK < logits.length ? kthLargest(logits, opts.topK) : -Infinity;
  const ids: number[] = [];
  const weights: number[] = [];
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] < kth) continue;
    const w = Math.exp(logits[i] * invT - max);
    ids.push(i);
    weights.push(w);
    total += w;
  }
  if (opts.topP >= 1) return { ids, weights };
  // Tokens below (1 − p)/n of the mass hold at most 1 − p together, so the nucleus lies
  // entirely above that floor: only those need sorting.
  const floor = (total * (1 - opts.topP)) / ids.length;
  const order = ids.map((_, j) => j).filter((j) => weights[j] >= floor);
  order.sort((x, y) => weights[y] - weights[x] || ids[x] - ids[y]);
  const kept: number[] = [];
  let mass = 0;
  for (const j of order) {
    kept.push(j);
    mass += weights[j];
    if (mass >= opts.topP * total) break;
  }
  return { ids: kept.map((j) => ids[j]), weights: kept.map((j) => weights[j]) };
}

/**
 * `lse`: log Σ exp(logits / temperature) (temperature 0: of the logits), when the caller has it —
 * generate.ts takes it from the backend, vectorised; over a 151 k vocabulary, JS's Math.exp per
 * element cost ≈ 2 ms a row, a decode step at batch 16 ≈ 30 ms. Computed here otherwise.
 */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng, lse?: number): SampledToken {
  if (opts.temperature === 0) {
    const token = argmax(logits);
    return { token, logprob: logits[token] - (lse ?? logSumExp(logits)) };
  }
  const { ids, weights } = candidates(logits, opts);
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  let token = ids[ids.length - 1];
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) {
      token = ids[j];
      break;
    }
  }
  const invT = 1 / opts.temperature;
  return { token, logprob: logits[token] * invT - (lse ?? logSumExp(logits, invT)) };
}
