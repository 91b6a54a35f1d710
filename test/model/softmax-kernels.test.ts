/**
 * The LM head's native softmax kernels (model/softmax-kernels.ts) against the tfjs chains they
 * replace: the same bits for logsumexp, entropy and probabilities, at temperature 1 and not, for
 * vocabularies with and without a tail past the 8-wide vectors, on 1, 2 and 3 threads.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { nativeAddon, setNativeThreads } from "../../src/model/native-kernels.ts";
import { entropyRows, logSumExpRows, softmaxProbs } from "../../src/model/softmax-kernels.ts";
import { randNormal, seededRng } from "../../src/util/rng.ts";

const hasNative = (await initBackend("wasm"), nativeAddon() !== undefined);
if (!hasNative) console.warn("softmax-kernels.test: skipped — the native kernels are not built");

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer);

describe.skipIf(!hasNative)("native LM-head softmax", () => {
  afterAll(() => setNativeThreads(2));

  it.each([
    [5, 8192, 1],
    [3, 1003, 1 / 0.7],
    [17, 40, 2],
  ])("gives the chain's bits: %i rows of %i logits, 1/τ = %d", (rows, vocab, invTemp) => {
    const rng = seededRng(rows * vocab);
    // logits on a wide range, with ties at each row's maximum and exact zeros
    const values = Float32Array.from({ length: rows * vocab }, (_, i) => (i % 97 === 0 ? 0 : i % 101 === 0 ? 30 : 12 * randNormal(rng)));
    const y = tf.tensor2d(values, [rows, vocab]);
    const chainLse = tf.logSumExp(y.mul(invTemp), 1) as tf.Tensor1D;
    const logp = y.mul(invTemp).sub(chainLse.reshape([-1, 1]));
    const chainEntropy = logp.exp().mul(logp).sum(1).neg();
    const chainProbs = logp.exp();
    for (const threads of [1, 2, 3]) {
      setNativeThreads(threads);
      const lse = logSumExpRows(y, invTemp);
      expect(bits(lse).equals(bits(chainLse)), `logsumexp, ${threads} threads`).toBe(true);
      const [entropy, probs] = [entropyRows(y, lse, invTemp), softmaxProbs(y, lse, invTemp)];
      expect(bits(entropy).equals(bits(chainEntropy)), `entropy, ${threads} threads`).toBe(true);
      expect(bits(probs).equals(bits(chainProbs)), `probabilities, ${threads} threads`).toBe(true);
      tf.dispose([lse, entropy, probs]);
    }
    // and the values themselves: each row's probabilities sum to 1, entropy within [0, log V]
    const p = softmaxProbs(y, chainLse, invTemp);
    for (const s of p.sum(1).dataSync()) expect(s).toBeCloseTo(1, 4);
    for (const h of chainEntropy.dataSync()) expect(h >= -1e-5 && h <= Math.log(vocab) + 1e-5).toBe(true);
    tf.dispose([y, chainLse, logp, chainEntropy, chainProbs, p]);
  });

  it("runs as one native kernel per quantity (else the comparison above would be the chain against itself)", async () => {
    const y = tf.randomNormal([4, 300]) as tf.Tensor2D;
    const { kernels } = await tf.profile(() => {
      const lse = logSumExpRows(y, 1);
      tf.dispose([lse, entropyRows(y, lse, 1), softmaxProbs(y, lse, 1)]);
    });
    const names = kernels.map((k) => k.name);
    expect(names.filter((k) => k === "TrirlSoftmaxRows")).toHaveLength(3);
    expect(names).not.toContain("Exp");
    y.dispose();
  });

  it("keeps the tensor count: no intermediate is left behind", () => {
    const y = tf.randomNormal([4, 300]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const lse = logSumExpRows(y, 1);
    tf.dispose([lse, entropyRows(y, lse, 1), softmaxProbs(y, lse, 1)]);
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});
