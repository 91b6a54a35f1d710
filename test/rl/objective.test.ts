/** Advantages, the clipped loss and Adam against hand-computed values. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { adamStep, createAdam, disposeAdam, learningRate } from "../../src/rl/adam.ts";
import { debiasByBehaviour, groupAdvantages, zeroSpreadFraction } from "../../src/rl/advantage.ts";
import { policyLoss } from "../../src/rl/loss.ts";
import { expectClose } from "../helpers/expect-close.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("groupAdvantages", () => {
  it("normalises within each group of G (population std)", () => {
    // group 1: [1, 0] → mean .5, std .5 → [1, −1]; group 2: [3, 1] → [1, −1]
    expectClose(groupAdvantages(Float32Array.from([1, 0, 3, 1]), 2), [1, -1, 1, -1], { atol: 1e-3 });
    // [0, 0, 3]: mean 1, std √2 → [−1/√2, −1/√2, 2/√2]
    expectClose(groupAdvantages(Float32Array.from([0, 0, 3]), 3), [-0.7071, -0.7071, 1.4142], { atol: 1e-3 });
  });
  it("without the std division (Dr. GRPO) only centres each group", () => {
    // [1, 0] → mean .5 → [.5, −.5]; [3, 1] → mean 2 → [1, −1]; an all-equal group → 0
    expectClose(groupAdvantages(Float32Array.from([1, 0, 3, 1, 0.7, 0.7]), 2, false), [0.5, -0.5, 1, -1, 0, 0], { atol: 1e-6 });
  });
  it("an all-equal group gives exactly 0, not NaN", () => {
    expect([...groupAdvantages(Float32Array.from([0.7, 0.7, 0.7, 0.7]), 4)]).toEqual([0, 0, 0, 0]);
  });
  it("rejects a reward count that is not a multiple of G", () => {
    expect(() => groupAdvantages(Float32Array.from([1, 2, 3]), 2)).toThrow(/not a multiple of G=2/);
  });
  it("counts zero-spread groups", () => {
    expect(zeroSpreadFraction(Float32Array.from([1, 1, 0, 1, 2, 2]), 2)).toBeCloseTo(2 / 3);
  });
});

describe("debiasByBehaviour", () => {
  it("subtracts each behaviour's step-mean advantage, so every behaviour's summed advantage is 0", () => {
    // refuse: 2, −4 (mean −1); execute: 1, 3, 2 (mean 2); verify alone: 0.5 (mean 0.5)
    const out = debiasByBehaviour(Float32Array.from([2, 1, -4, 3, 0.5, 2]), ["refuse", "execute", "refuse", "execute", "verify", "execute"]);
    expectClose(Array.from(out), [3, -1, -3, 1, 0, 0], { atol: 1e-6 });
  });
});

describe("policyLoss", () => {
  const t = (xs: number[]) => tf.tensor1d(xs);
  it("at ratio 1 is −mean(A) and its gradient is −A/M per token", () => {
    const lp = t([-1, -2, -0.5]);
    const value = policyLoss({ logprobs: lp, oldLogprobs: t([-1, -2, -0.5]), advantages: t([1, -2, 4]) }, { clipEpsilon: 0.2, klCoef: 0 }).loss;
    expect(value.dataSync()[0]).toBeCloseTo(-1, 6);
    const g = tf.grad((x: tf.Tensor) => policyLoss({ logprobs: x as tf.Tensor1D, oldLogprobs: t([-1, -2, -0.5]), advantages: t([1, -2, 4]) }, { clipEpsilon: 0.2, klCoef: 0 }).loss)(lp);
    expectClose(g.arraySync(), [-1 / 3, 2 / 3, -4 / 3], { atol: 1e-6 });
  });
  it("per-sequence weights (aggregate \"sequence\"): at ratio 1 the loss is −(mean over episodes of A) and a token's gradient −A_i/(N·n_i)", () => {
    // episode 1: one token, A = 2; episode 2: three tokens, A = −1; N = 2
    const lp = t([-1, -2, -0.5, -3]);
    const inputs = (x: tf.Tensor) => ({ logprobs: x as tf.Tensor1D, oldLogprobs: t([-1, -2, -0.5, -3]), advantages: t([2, -1, -1, -1]), weights: t([1 / 2, 1 / 6, 1 / 6, 1 / 6]) });
    expect(policyLoss(inputs(lp), { clipEpsilon: 0.2, klCoef: 0 }).loss.dataSync()[0]).toBeCloseTo(-(2 + -1) / 2, 6);
    const g = tf.grad((x: tf.Tensor) => policyLoss(inputs(x), { clipEpsilon: 0.2, klCoef: 0 }).loss)(lp);
    expectClose(g.arraySync(), [-1, 1 / 6, 1 / 6, 1 / 6], { atol: 1e-6 });
  });
  it("clips: a ratio above 1+ε with positive advantage stops the gradient", () => {
    const old = t([0, 0]);
    const lp = t([Math.log(1.5), Math.log(0.9)]); // ratios 1.5 (clipped at 1.2) and 0.9
    const out = policyLoss({ logprobs: lp, oldLogprobs: old, advantages: t([1, 1]) }, { clipEpsilon: 0.2, klCoef: 0 });
    expect(out.loss.dataSync()[0]).toBeCloseTo(-(1.2 + 0.9) / 2, 5);
    expect(out.clipFraction.dataSync()[0]).toBeCloseTo(0.5, 6);
    const g = tf.grad((x: tf.Tensor) => policyLoss({ logprobs: x as tf.Tensor1D, oldLogprobs: old, advantages: t([1, 1]) }, { clipEpsilon: 0.2, klCoef: 0 }).loss)(lp);
    expectClose(g.arraySync(), [0, -0.9 / 2], { atol: 1e-6 });
  });
  it("k3 KL is exp(d) − d − 1 averaged over tokens and is 0 when policy = reference", () => {
    const lp = t([-1, -2]);
    const ref = t([-1.5, -2]);
    const out = policyLoss({ logprobs: lp, oldLogprobs: lp, refLogprobs: ref, advantages: t([0, 0]) }, { clipEpsilon: 0.2, klCoef: 0.1 });
    const d = -0.5;
    expect(out.kl.dataSync()[0]).toBeCloseTo((Math.exp(d) - d - 1) / 2, 6);
    expect(out.loss.dataSync()[0]).toBeCloseTo((0.1 * (Math.exp(d) - d - 1)) / 2, 6);
    expect(policyLoss({ logprobs: lp, oldLogprobs: lp, refLogprobs: lp, advantages: t([1, 1]) }, { clipEpsilon: 0.2, klCoef: 1 }).kl.dataSync()[0]).toBe(0);
  });
  it("no sampled tokens: loss 0, not NaN", () => {
    const e = tf.tensor1d([]);
    expect(policyLoss({ logprobs: e, oldLogprobs: e, advantages: e }, { clipEpsilon: 0.2, klCoef: 0 }).loss.dataSync()[0]).toBe(0);
  });
});

describe("adam", () => {
  const opts = { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, maxGradNorm: 0, warmupSteps: 0 };
  it("first step moves each weight by lr·sign(g) (bias-corrected)", async () => {
    const x = tf.variable(tf.tensor1d([1, 2]));
    const state = createAdam([x]);
    await adamStep([x], [tf.tensor1d([3, -0.01])], state, opts);
    expectClose(x.arraySync(), [0.9, 2.1], { atol: 1e-5 });
    disposeAdam(state);
    x.dispose();
  });
  it("clips the global norm across variables and reports the pre-clip norm", async () => {
    const [x, y] = [tf.variable(tf.tensor1d([0])), tf.variable(tf.tensor1d([0]))];
    const state = createAdam([x, y]);
    const norm = await adamStep([x, y], [tf.tensor1d([3]), tf.tensor1d([4])], state, { ...opts, maxGradNorm: 1 });
    expect(norm).toBeCloseTo(5, 5);
    // after clipping g = [.6, .8]; the first Adam step is still lr·sign(g)
    expectClose([x.dataSync()[0], y.dataSync()[0]], [-0.1, -0.1], { atol: 1e-5 });
    expectClose([state.m[0].dataSync()[0], state.m[1].dataSync()[0]], [0.06, 0.08], { atol: 1e-6 });
    disposeAdam(state);
    tf.dispose([x, y]);
  });
  it("warms the learning rate up linearly", () => {
    expect([0, 1, 3, 10].map((s) => learningRate({ ...opts, warmupSteps: 4 }, s))).toEqual([0.025, 0.05, 0.1, 0.1]);
  });
  it("with decaySteps, decays linearly after the warm-up to 10 % at the last step", () => {
    // warm-up 4, decay over steps 4..14: lr·(1 − 0.9·(s − 4)/10)
    const got = [0, 3, 4, 9, 14, 20].map((s) => learningRate({ ...opts, warmupSteps: 4, decaySteps: 14 }, s));
    expectClose(got, [0.025, 0.1, 0.1, 0.055, 0.01, 0.01], { atol: 1e-12 });
  });
});
