/**
 * The fused, chunked log-prob op against a naive reference (full logits → log-softmax → pick,
 * differentiated by tfjs autodiff), and the policy gradient against finite differences.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { tokenBatch } from "../../src/model/inputs.ts";
import type { Layout } from "../../src/model/matmul.ts";
import { forward, lmHead, type Adapters } from "../../src/model/qwen.ts";
import { disposeModel, linearKey, loadModel, trainableCopy, type QwenModel } from "../../src/model/weights.ts";
import { buildBatch, disposeBatch, lengthBuckets, sharedPrefixLength } from "../../src/rl/batch.ts";
import { sampledLogprobs, type SequenceBatch } from "../../src/rl/logprobs.ts";
import { policyLoss } from "../../src/rl/loss.ts";
import { expectClose } from "../helpers/expect-close.ts";
import { fixtureDir } from "../helpers/fixtures.ts";

let vars: tf.Variable[];
let adapters: Adapters;
let batch: SequenceBatch;
const TEMPERATURE = 0.7;
// two left-padded rows; "sampled" tokens are ids[t] for the listed t (predicted at t − 1)
const IDS = [[11, 12, 13, 14, 15, 16, 17], [0, 0, 21, 22, 23, 24, 25]];
const MASK = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]];
const SAMPLED: [number, number][] = [[0, 3], [0, 4], [0, 6], [1, 4], [1, 5], [1, 6]];

beforeAll(async () => {
  await initBackend("wasm");
  const rand = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.1, "float32", seed));
  // LoRA on layer 0 q_proj (64 → 128) and layer 1 down_proj (128 → 64), rank 2, non-zero B
  const terms: [string, tf.Variable, tf.Variable][] = [
    [linearKey(0, "q_proj"), rand([64, 2], 1), rand([2, 128], 2)],
    [linearKey(1, "down_proj"), rand([128, 2], 3), rand([2, 64], 4)],
  ];
  vars = terms.flatMap(([, a, b]) => [a, b]);
  adapters = new Map(terms.map(([key, aT, bT]) => [key, { aT: aT as tf.Tensor2D, bT: bT as tf.Tensor2D, scale: 2 }]));
  const t = IDS[0].length;
  batch = {
    ...tokenBatch(IDS, MASK),
    predictAt: tf.tensor1d(SAMPLED.map(([n, i]) => n * t + i - 1), "int32"),
    targets: tf.tensor1d(SAMPLED.map(([n, i]) => IDS[n][i]), "int32"),
  };
});
afterAll(() => {
  tf.dispose([...vars, ...Object.values(batch)]);
});

/** Reference: all logits [N, T, V], log-softmax, pick with a one-hot mask. */
function naive(model: QwenModel): { logprobs: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    const { hidden } = forward(model, { ...batch, adapters });
    const logp = tf.logSoftmax(lmHead(model, hidden).div(TEMPERATURE)).reshape([-1, model.config.vocabSize]);
    const rows = tf.gather(logp, batch.predictAt);
    const logprobs = rows.mul(tf.oneHot(batch.targets, model.config.vocabSize)).sum(1) as tf.Tensor1D;
    return { logprobs, entropy: rows.exp().mul(rows).sum(1).neg() as tf.Tensor1D };
  });
}

const LAYOUTS: Layout[] = ["in-out", "out-in"];

describe("lengthBuckets", () => {
  it("groups similar lengths, shortest first, padding at most 25 % of a part's tokens", () => {
    // 10, 11, 12 pad to 36 ≤ 1.25·33; adding 95 would pad to 380 > 1.25·128; 95, 100 pad to 200 ≤ 1.25·195
    expect(lengthBuckets([10, 100, 12, 11, 95])).toEqual([[0, 3, 2], [4, 1]]);
    expect(lengthBuckets([5])).toEqual([[0]]);
    expect(lengthBuckets([4, 6, 2])).toEqual([[2], [0, 1]]); // the shared-prefix test below pads a part
  });
});

describe.each(LAYOUTS)("sampledLogprobs, weights stored %s", (layout) => {
  let model: QwenModel;
  beforeAll(() => {
    model = loadModel(fixtureDir("qwen3-tiny"), { layout });
  });
  afterAll(() => disposeModel(model));


  it.each([1, 4, 64])("matches the naive log-softmax values and entropy (chunkRows %i)", (chunkRows) => {
    const got = sampledLogprobs(model, batch, { temperature: TEMPERATURE, chunkRows, adapters });
    const want = naive(model);
    expectClose(got.logprobs.arraySync(), want.logprobs.arraySync(), { atol: 1e-5 });
    expectClose(got.entropy.arraySync(), want.entropy.arraySync(), { atol: 1e-4 });
    tf.dispose([got.logprobs, got.entropy, want.logprobs, want.entropy]);
  });

  it("its gradient w.r.t. LoRA variables equals autodiff of the naive version", () => {
    const weights = tf.tensor1d([0.5, -1, 2, 1, -0.3, 0.8]);
    const f = (lp: () => tf.Tensor1D) => tf.variableGrads(() => lp().mul(weights).sum() as tf.Scalar, vars);
    const fused = f(() => sampledLogprobs(model, batch, { temperature: TEMPERATURE, chunkRows: 4, adapters }).logprobs);
    const ref = f(() => naive(model).logprobs);
    for (const v of vars) expectClose(fused.grads[v.name].arraySync(), ref.grads[v.name].arraySync(), { atol: 1e-5, rtol: 1e-3 });
    tf.dispose([weights, fused.value, ref.value, ...Object.values(fused.grads), ...Object.values(ref.grads)]);
  });

  it("in a full fine-tune its gradient w.r.t. every weight (head included) equals autodiff of the naive version", () => {
    const full = trainableCopy(model);
    const weights = tf.tensor1d([0.5, -1, 2, 1, -0.3, 0.8]);
    const naiveFull = () => tf.tidy(() => {
      const { hidden } = forward(full.model, batch);
      const logp = tf.logSoftmax(lmHead(full.model, hidden).div(TEMPERATURE)).reshape([-1, model.config.vocabSize]);
      return tf.gather(logp, batch.predictAt).mul(tf.oneHot(batch.targets, model.config.vocabSize)).sum(1) as tf.Tensor1D;
    });
    const f = (lp: () => tf.Tensor1D) => tf.variableGrads(() => lp().mul(weights).sum() as tf.Scalar, full.variables);
    const fused = f(() => sampledLogprobs(full.model, batch, { temperature: TEMPERATURE, chunkRows: 4 }).logprobs);
    const ref = f(naiveFull);
    expect(Object.keys(fused.grads).length).toBe(full.variables.length);
    for (const v of full.variables) {
      const got = fused.grads[v.name].dataSync();
      expect(got.some((g) => g !== 0), v.name).toBe(true); // every weight gets a gradient
      expectClose(Array.from(got), Array.from(ref.grads[v.name].dataSync()), { atol: 1e-5, rtol: 1e-3 });
    }
    tf.dispose([weights, fused.value, ref.value, ...Object.values(fused.grads), ...Object.values(ref.grads)]);
    disposeModel(full.model);
  });

  it.each([7, 100])("the head's backward in vocabulary blocks of %i equals one block (full fine-tune)", (vocabBlock) => {
    const full = trainableCopy(model);
    const weights = tf.tensor1d([0.5, -1, 2, 1, -0.3, 0.8]);
    const f = (block: number) => tf.variableGrads(() => sampledLogprobs(full.model, batch, { temperature: TEMPERATURE, chunkRows: 4, vocabBlock: block }).logprobs.mul(weights).sum() as tf.Scalar, full.variables);
    const whole = f(1 << 30);
    const blocked = f(vocabBlock);
    for (const v of full.variables) expectClose(Array.from(blocked.grads[v.name].dataSync()), Array.from(whole.grads[v.name].dataSync()), { atol: 1e-6, rtol: 1e-4 });
    tf.dispose([weights, whole.value, blocked.value, ...Object.values(whole.grads), ...Object.values(blocked.grads)]);
    disposeModel(full.model);
  });

  it("the softmax kept by the forward pass gives the bits of the backward's recompute (LoRA and full fine-tune)", () => {
    const full = trainableCopy(model);
    const weights = tf.tensor1d([0.5, -1, 2, 1, -0.3, 0.8]);
    for (const [m, vs, ad] of [[model, vars, adapters], [full.model, full.variables, undefined]] as const) {
      const f = (keepProbsBytes: number) => tf.variableGrads(() => sampledLogprobs(m, batch, { temperature: TEMPERATURE, chunkRows: 4, vocabBlock: 7, adapters: ad, keepProbsBytes }).logprobs.mul(weights).sum() as tf.Scalar, [...vs]);
      const before = tf.memory().numTensors;
      const [kept, recomputed] = [f(1 << 30), f(0)];
      const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer);
      expect(bits(kept.value).equals(bits(recomputed.value))).toBe(true);
      for (const v of vs) expect(bits(kept.grads[v.name]).equals(bits(recomputed.grads[v.name])), v.name).toBe(true);
      tf.dispose([kept.value, recomputed.value, ...Object.values(kept.grads), ...Object.values(recomputed.grads)]);
      expect(tf.memory().numTensors).toBe(before); // the kept softmax is released with the tape
    }
    tf.dispose(weights);
    disposeModel(full.model);
  });

  it("with gradient checkpointing, the same values and the same gradients (LoRA and full fine-tune)", () => {
    const full = trainableCopy(model);
    const weights = tf.tensor1d([0.5, -1, 2, 1, -0.3, 0.8]);
    for (const [m, vs, ad] of [[model, vars, adapters], [full.model, full.variables, undefined]] as const) {
      const f = (checkpoint: boolean) => tf.variableGrads(() => sampledLogprobs(m, batch, { temperature: TEMPERATURE, chunkRows: 4, adapters: ad, checkpoint }).logprobs.mul(weights).sum() as tf.Scalar, [...vs]);
      const before = tf.memory().numTensors;
      const plain = f(false);
      const ckpt = f(true);
      expect(ckpt.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0], 5);
      for (const v of vs) expectClose(Array.from(ckpt.grads[v.name].dataSync()), Array.from(plain.grads[v.name].dataSync()), { atol: 1e-6, rtol: 1e-4 });
      tf.dispose([plain.value, ckpt.value, ...Object.values(plain.grads), ...Object.values(ckpt.grads)]);
      expect(tf.memory().numTensors).toBe(before); // the recompute leaves nothing behind
    }
    tf.dispose(weights);
    disposeModel(full.model);
  });

  it("a shared prefix (run once, continuations in length buckets) gives the same log-probs and gradients as full sequences, and leaks nothing", () => {
    // three episodes continuing the same 5-token prompt, sampled tokens (1) and a tool reply (0)
    const episode = (rest: number[], sampled: number[]) => {
      const tokens = [3, 4, 5, 6, 7, ...rest];
      return { tokens: Int32Array.from(tokens), sampled: Uint8Array.from([0, 0, 0, 0, 0, ...sampled]), logprobs: new Float32Array(tokens.length) };
    };
    const episodes = [episode([30, 31, 32], [1, 1, 1]), episode([40, 41, 42, 43, 44], [1, 1, 0, 1, 1]), episode([50], [1])];
    expect(sharedPrefixLength(episodes)).toBe(4); // position 4 predicts the first sampled token
    const before = tf.memory().numTensors;
    const run = (sharePrefix: boolean) => {
      const b = buildBatch(episodes, [1, -2, 3], 0, { sharePrefix });
      expect("parts" in b.seq).toBe(sharePrefix);
      const lp = () => sampledLogprobs(model, b.seq, { temperature: TEMPERATURE, chunkRows: 4, adapters }).logprobs;
      const values = tf.tidy(() => Array.from(lp().dataSync()));
      // Σ A·lp: the advantages come in the batch's own token order
      const { value, grads } = tf.variableGrads(() => lp().mul(tf.tensor1d(b.advantages)).sum() as tf.Scalar, vars);
      const out = { values, advantages: Array.from(b.advantages), episodeTokens: Array.from(b.episodeTokens), grads: vars.map((v) => Array.from(grads[v.name].dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      disposeBatch(b);
      return out;
    };
    const plain = run(false);
    const shared = run(true);
    // parts [episode 2], [episodes 0, 1]: the same tokens, in part order
    const order = (xs: number[]) => [...xs.slice(7), ...xs.slice(0, 7)]; // episode 2 has the last of 8 tokens
    expect(shared.advantages).toEqual(order(plain.advantages));
    expect(plain.episodeTokens).toEqual([3, 3, 3, 4, 4, 4, 4, 1]); // each token knows its episode's sampled count
    expect(shared.episodeTokens).toEqual(order(plain.episodeTokens));
    expectClose(shared.values, order(plain.values), { atol: 1e-5 });
    shared.grads.forEach((g, i) => expectClose(g, plain.grads[i], { atol: 1e-6, rtol: 1e-4 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the policy-loss gradient matches central finite differences", () => {
    const old = tf.tidy(() => sampledLogprobs(model, batch, { temperature: TEMPERATURE, chunkRows: 4, adapters }).logprobs.add(0.05) as tf.Tensor1D);
    const advantages = tf.tensor1d([1, 1, 1, -0.5, -0.5, -0.5]);
    const lossOf = () => {
      const { logprobs } = sampledLogprobs(model, batch, { temperature: TEMPERATURE, chunkRows: 4, adapters });
      return policyLoss({ logprobs, oldLogprobs: old, advantages }, { clipEpsilon: 0.2, klCoef: 0 }).loss;
    };
    const { grads, value } = tf.variableGrads(lossOf, vars);
    const v = vars[1]; // a B matrix
    const index = 5;
    const analytic = grads[v.name].dataSync()[index];
    const h = 1e-2;
    const at = (delta: number) => {
      const data = v.dataSync().slice();
      data[index] += delta;
      v.assign(tf.tensor(data, v.shape));
      return tf.tidy(() => lossOf().dataSync()[0]);
    };
    const original = v.dataSync().slice();
    const numeric = (at(h) - at(-h)) / (2 * h);
    v.assign(tf.tensor(original, v.shape));
    expect(Math.abs(analytic)).toBeGreaterThan(1e-4); // the check is not vacuous
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    tf.dispose([old, advantages, value, ...Object.values(grads)]);
  });
});
