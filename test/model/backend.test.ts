/** Backend selection and the kernels we add to wasm (gather's gradient needs UnsortedSegmentSum; clone must share). */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { disposeModel, loadModel } from "../../src/model/weights.ts";
import { generate } from "../../src/model/generate.ts";
import { seededRng } from "../../src/util/rng.ts";
import { fixtureDir } from "../helpers/fixtures.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("wasm backend", () => {
  it("reports wasm as the active backend", () => {
    expect(tf.getBackend()).toBe("wasm");
  });

  it("gradient of gather: repeated and out-of-order indices accumulate (hand-computed)", () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const idx = tf.tensor1d([2, 0, 2], "int32");
    const w = tf.tensor2d([[1, 10], [100, 1000], [2, 20]]);
    const grad = tf.grad((t: tf.Tensor) => tf.gather(t, idx).mul(w).sum())(x);
    // row 0 gets w[1]; row 1 nothing; row 2 gets w[0] + w[2]
    expect(grad.arraySync()).toEqual([[100, 1000], [0, 0], [3, 30]]);
    tf.dispose([x, idx, w, grad]);
  });

  it("slice, split and concat (our copies of the output's runs) give the values of hand-written index arithmetic", async () => {
    const shape = [3, 4, 5, 6];
    const values = Float32Array.from({ length: 360 }, (_, i) => i);
    const x = tf.tensor(values, shape);
    const at = (i: number, j: number, k: number, l: number) => ((i * 4 + j) * 5 + k) * 6 + l;
    // begin [1, 0, 2, 1], size [2, -1, 2, 4]: every element by its index
    const want: number[] = [];
    for (let i = 1; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 2; k < 4; k++) for (let l = 1; l < 5; l++) want.push(at(i, j, k, l));
    expect([...(await tf.slice(x, [1, 0, 2, 1], [2, -1, 2, 4]).data())]).toEqual(want);
    // whole trailing axes merge into longer runs: every element still by its index
    const pick = (begin: number[], size: number[]) => {
      const out: number[] = [];
      for (let i = 0; i < size[0]; i++) for (let j = 0; j < size[1]; j++) for (let k = 0; k < size[2]; k++) for (let l = 0; l < size[3]; l++) out.push(at(begin[0] + i, begin[1] + j, begin[2] + k, begin[3] + l));
      return out;
    };
    expect([...(await tf.slice(x, [1, 1, 0, 0], [2, 2, 5, 6]).data())]).toEqual(pick([1, 1, 0, 0], [2, 2, 5, 6]));
    expect([...(await tf.slice(x, [0, 0, 1, 0], [3, 4, 3, 6]).data())]).toEqual(pick([0, 0, 1, 0], [3, 4, 3, 6]));
    expect([...(await tf.slice(x, [2, 0, 0, 0], [1, 4, 5, 6]).data())]).toEqual(pick([2, 0, 0, 0], [1, 4, 5, 6]));
    // split (its own kernel, SplitV) on the last and on the first axis
    const [p, q] = tf.split(x, [2, 4], 3);
    expect([...(await p.data())]).toEqual(pick([0, 0, 0, 0], [3, 4, 5, 2]));
    expect([...(await q.data())]).toEqual(pick([0, 0, 0, 2], [3, 4, 5, 4]));
    const thirds = tf.split(x, 3, 0);
    for (const [i, t] of thirds.entries()) expect([...(await t.data())]).toEqual(pick([i, 0, 0, 0], [1, 4, 5, 6]));
    tf.dispose([p, q, ...thirds]);
    expect([...(await tf.slice(tf.tensor1d([5, 6, 7, 8], "int32"), [1], [2]).data())]).toEqual([6, 7]);
    expect(tf.slice(x, [0, 0, 0, 0], [0, 4, 5, 6]).shape).toEqual([0, 4, 5, 6]);
    const a = tf.tensor2d([[1, 2], [3, 4]]), b = tf.tensor2d([[5], [6]]), e = tf.zeros([2, 0]);
    expect(await tf.concat([a, e, b], -1).array()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(await tf.concat([a, tf.tensor2d([[7, 8]])], 0).array()).toEqual([[1, 2], [3, 4], [7, 8]]);
    tf.dispose([x, a, b, e]);
  });

  it("clone shares the data (reference-counted) and outlives its source", () => {
    const backend = tf.backend() as unknown as { refCount(id: object): number };
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    expect(b.dataId).toBe(a.dataId);
    expect(backend.refCount(a.dataId)).toBe(2);
    a.dispose();
    expect(backend.refCount(b.dataId)).toBe(1);
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
  });

  it("a gradient through a gather on a frozen table is right and gives back the reference the tape took", () => {
    const backend = tf.backend() as unknown as { refCount(id: object): number };
    const table = tf.randomNormal([50, 8], 0, 1, "float32", 1);
    const x = tf.variable(tf.ones([2, 8]));
    const { value, grads } = tf.variableGrads(() => tf.gather(table, tf.tensor1d([3, 7], "int32")).mul(x).sum() as tf.Scalar, [x]);
    expect(backend.refCount(table.dataId)).toBe(1);
    // d/dx Σ table[ids] ⊙ x = table[ids]
    expect(grads[x.name].arraySync()).toEqual(tf.tidy(() => tf.gather(table, tf.tensor1d([3, 7], "int32")).arraySync()));
    tf.dispose([table, x, value, ...Object.values(grads)]);
  });

  it("unsortedSegmentSum matches the cpu backend on random data", async () => {
    const data = Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const ids = [3, 0, 3, 1, 0, 2];
    const run = () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(data, [6, 4]), tf.tensor1d(ids, "int32"), 5).arraySync());
    const onWasm = run();
    await tf.setBackend("cpu");
    const onCpu = run();
    await tf.setBackend("wasm");
    expect(onWasm).toEqual(onCpu);
  });

  it("batched products, split one product at a time, match the cpu backend, with gradients", async () => {
    // [2, 3] batches of 40×50 · 50×40 and of 4×8 · 8×5, through autodiff, whose gradient products
    // are batched (and transposed: those stay in the wasm loop) too; b broadcast over a's batch
    // (forward only: tf's gradient does not reduce a broadcast batch)
    const cases: [number[], number[]][] = [[[2, 3, 40, 50], [2, 3, 50, 40]], [[2, 3, 4, 8], [2, 3, 8, 5]], [[6, 40, 50], [1, 50, 40]]];
    const run = () => cases.map(([sa, sb], i) => tf.tidy(() => {
      const a = tf.randomNormal(sa, 0, 1, "float32", 10 + i);
      const b = tf.randomNormal(sb, 0, 1, "float32", 20 + i);
      const w = tf.randomNormal([...sa.slice(0, -1), sb[sb.length - 1]], 0, 1, "float32", 30 + i);
      const grads = sa[0] === sb[0] ? tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(w).sum())([a, b]) : [];
      return [tf.matMul(a, b), ...grads].map((t) => Array.from(t.dataSync()));
    }));
    const before = tf.memory().numTensors;
    const onWasm = run();
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend("cpu");
    const onCpu = run();
    await tf.setBackend("wasm");
    onWasm.flat().forEach((values, j) => values.forEach((v, i) => expect(v).toBeCloseTo(onCpu.flat()[j][i], 3)));
  });

  it("repeated generate calls leave no tensors behind", async () => {
    const model = loadModel(fixtureDir("qwen2-tiny"));
    const opts = { temperature: 1, topK: 0, topP: 1, maxNewTokens: 5, stopIds: [] };
    await generate(model, [[1, 2, 3], [4, 5]], { ...opts, rngs: [seededRng(1), seededRng(2)] });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await generate(model, [[1, 2, 3], [4, 5]], { ...opts, rngs: [seededRng(1), seededRng(2)] });
    expect(tf.memory().numTensors).toBe(before);
    disposeModel(model);
  });

  it("a row's tokens and log-probs are bit-identical whatever else is in the batch (what lets rollouts split over threads)", async () => {
    const model = loadModel(fixtureDir("qwen3-tiny"));
    const prompt = (n: number, k: number) => Array.from({ length: n }, (_, i) => ((i * k) % 90) + 5);
    const opts = { temperature: 1, topK: 0, topP: 1, maxNewTokens: 12, stopIds: [] };
    const mine = prompt(40, 7);
    const [alone] = await generate(model, [mine], { ...opts, rngs: [seededRng(5)] });
    // beside a longer prompt (this row is padded), beside shorter ones, beside itself
    for (const others of [[prompt(70, 3)], [prompt(9, 11), prompt(25, 13), prompt(3, 17)], [mine]]) {
      const out = await generate(model, [...others, mine], { ...opts, rngs: [...others.map((_, i) => seededRng(40 + i)), seededRng(5)] });
      expect(out.at(-1)!.tokens).toEqual(alone.tokens);
      expect(out.at(-1)!.logprobs).toEqual(alone.logprobs);
    }
    // rows that stop early are dropped from the cache (compaction) without changing the others
    const stopAt = alone.tokens[3];
    const [first] = await generate(model, [mine], { ...opts, stopIds: [stopAt], rngs: [seededRng(5)] });
    const crowd = [prompt(30, 3), prompt(20, 5), prompt(50, 9)];
    const out = await generate(model, [...crowd, mine], { ...opts, stopIds: [stopAt], rngs: [...crowd.map((_, i) => seededRng(60 + i)), seededRng(5)] });
    expect(out.at(-1)!.logprobs).toEqual(first.logprobs);
    disposeModel(model);
  });
});
