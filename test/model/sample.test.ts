/** Token sampling: greedy, seeded determinism, top-k / top-p truncation, extreme logits. */
import { describe, expect, it } from "vitest";
import { logSumExp, sampleToken } from "../../src/model/sample.ts";
import { seededRng } from "../../src/util/rng.ts";

const logits = Float32Array.from([0, Math.log(2), Math.log(4), Math.log(8), -Infinity]); // p ∝ 1, 2, 4, 8, 0
const draw = (opts: { temperature: number; topK: number; topP: number }, n: number, seed = 1) => {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => sampleToken(logits, opts, rng).token);
};
const counts = (tokens: number[]) => tokens.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<number, number>());

describe("sampleToken", () => {
  it("temperature 0 is argmax with the full-softmax log-prob", () => {
    const s = sampleToken(logits, { temperature: 0, topK: 0, topP: 1 }, seededRng(0));
    expect(s.token).toBe(3);
    expect(s.logprob).toBeCloseTo(Math.log(8 / 15), 6);
  });
  it("the same seed gives the same tokens; another seed differs", () => {
    const opts = { temperature: 1, topK: 0, topP: 1 };
    expect(draw(opts, 50, 7)).toEqual(draw(opts, 50, 7));
    expect(draw(opts, 50, 7)).not.toEqual(draw(opts, 50, 8));
  });
  it("frequencies follow softmax at temperature 1", () => {
    const c = counts(draw({ temperature: 1, topK: 0, topP: 1 }, 15000));
    expect(c.get(4)).toBeUndefined();
    for (const [t, p] of [[0, 1 / 15], [1, 2 / 15], [2, 4 / 15], [3, 8 / 15]]) expect(c.get(t)! / 15000).toBeCloseTo(p, 1);
  });
  it("top-k 2 keeps only the two most likely tokens", () => {
    expect([...counts(draw({ temperature: 1, topK: 2, topP: 1 }, 500)).keys()].sort()).toEqual([2, 3]);
  });
  it("top-p keeps the smallest set reaching p", () => {
    // sorted mass: 8/15 = .53, +4/15 = .80, +2/15 = .93: p = .8 keeps {3, 2}; p = .81 adds 1
    expect([...counts(draw({ temperature: 1, topK: 0, topP: 0.8 }, 500)).keys()].sort()).toEqual([2, 3]);
    expect([...counts(draw({ temperature: 1, topK: 0, topP: 0.81 }, 500)).keys()].sort()).toEqual([1, 2, 3]);
  });
  it("log-prob is under softmax(logits / T) before truncation", () => {
    const rng = seededRng(3);
    const s = sampleToken(logits, { temperature: 0.5, topK: 1, topP: 1 }, rng);
    expect(s.token).toBe(3);
    expect(s.logprob).toBeCloseTo(2 * Math.log(8) - logSumExp(logits, 2), 6);
  });
  it("logits of ±1000 stay finite", () => {
    const extreme = Float32Array.from([-1000, 1000, 999]);
    const s = sampleToken(extreme, { temperature: 1, topK: 0, topP: 0.7 }, seededRng(0)); // p = .73, .27
    expect(s.token).toBe(1);
    expect(s.logprob).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 6);
    expect(logSumExp(extreme)).toBeCloseTo(1000 + Math.log(1 + Math.exp(-1)), 6);
  });
});
