/**
 * The fused inference kernels (model/fused-kernels.ts, native/fused.cc) against the tfjs chains they
 * replace: the same bits, not just close (generation, reference passes and the taped training
 * forward must agree exactly); and a whole forward with them (no tape) = the same forward taped.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { fusedAttentionBias, fusedAttentionHeads, fusedRmsNorm, isFusable } from "../../src/model/fused-kernels.ts";
import { setFusedLinear } from "../../src/model/fused-linear.ts";
import { disposeBatch, tokenBatch } from "../../src/model/inputs.ts";
import { emptyCache, type KvCache } from "../../src/model/kv-cache.ts";
import { weightDims } from "../../src/model/matmul.ts";
import { nativeAddon, nativeThreadCount, setNativeThreads } from "../../src/model/native-kernels.ts";
import { forward, type Adapters } from "../../src/model/qwen.ts";
import { ropeTables } from "../../src/model/rope.ts";
import { ensureTinyModel } from "../../src/model/tiny-model.ts";
import { disposeModel, loadModel, type QwenModel } from "../../src/model/weights.ts";
import { randNormal, seededRng } from "../../src/util/rng.ts";
import { FIXTURE_NAMES, fixtureDir } from "../helpers/fixtures.ts";

const hasNative = (await initBackend("wasm"), nativeAddon() !== undefined);
if (!hasNative) console.warn("fused.test: skipped — build/Release/trirl_native.node not built or no AVX2/FMA (npm rebuild)");

function random(shape: number[], seed: number, std = 1): tf.Tensor {
  const rng = seededRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * randNormal(rng)), shape);
}

/** The bits of a float32 tensor, to compare exactly (NaN and −0 included). */
const bitsOf = (t: tf.Tensor) => new Uint32Array((t.dataSync() as Float32Array).slice().buffer);

const chainNorm = (x: tf.Tensor, w: tf.Tensor, eps: number) => x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(w);

describe.skipIf(!hasNative)("fused kernels = the tfjs chains, to the bit", () => {
  beforeAll(() => expect(isFusable()).toBe(true));

  it.each([[[3, 5, 128]], [[2, 33]], [[1, 1, 896]], [[4, 7, 4, 32]]])("RMSNorm of %j", (shape) => {
    tf.tidy(() => {
      const x = random(shape, 1, 3), w = random([shape.at(-1)!], 2);
      for (const eps of [1e-6, 1e-5]) expect(bitsOf(fusedRmsNorm(x, w as tf.Tensor1D, eps))).toEqual(bitsOf(chainNorm(x, w, eps)));
    });
  });

  it.each([
    { b: 2, t: 5, n: 4, d: 32, norm: true, rope: true, scale: 1 / Math.sqrt(32) },
    { b: 1, t: 1, n: 1, d: 32, norm: true, rope: true, scale: undefined },
    { b: 3, t: 4, n: 2, d: 64, norm: false, rope: true, scale: 1 / Math.sqrt(64) },
    { b: 2, t: 3, n: 2, d: 64, norm: false, rope: false, scale: undefined },
  ])("attention heads %j", ({ b, t, n, d, norm, rope, scale }) => {
    tf.tidy(() => {
      const x = random([b, t, n * d], 3, 2) as tf.Tensor3D, w = random([d], 4) as tf.Tensor1D;
      const positions = Int32Array.from({ length: b * t }, (_, i) => 1000 * (i % 3) + i);
      const tables = ropeTables(d, 1e6, positions, [b, t]);
      const [cos, sin] = [tables.cos.reshape([b, 1, t, d]), tables.sin.reshape([b, 1, t, d])];
      let want = x.reshape([b, t, n, d]);
      if (norm) want = chainNorm(want, w, 1e-6);
      want = want.transpose([0, 2, 1, 3]);
      if (rope) {
        const [x1, x2] = tf.split(want, [d / 2, d / 2], 3);
        want = want.mul(cos).add(tf.concat([x2.neg(), x1], 3).mul(sin));
      }
      if (scale) want = want.mul(scale);
      const got = fusedAttentionHeads(x, { heads: n, eps: 1e-6, norm: norm ? w : undefined, rope: rope ? { cos, sin } : undefined, scale });
      expect(got.shape).toEqual([b, n, t, d]);
      expect(bitsOf(got)).toEqual(bitsOf(want));
    });
  });

  it.each([[3, 1, 9], [2, 6, 6], [1, 4, 20]])("attention bias, batch %i, %i queries over %i keys", (b, t, s) => {
    tf.tidy(() => {
      const mask = tf.tensor2d(Array.from({ length: b * s }, (_, i) => ((i * 7) % 5 === 0 ? 0 : 1)), [b, s]);
      const causal = tf.linalg.bandPart(tf.ones([t, s]), -1, s - t);
      const want = tf.sub(1, causal.reshape([1, 1, t, s]).mul(mask.reshape([b, 1, 1, s]))).mul(-1e9);
      expect(bitsOf(fusedAttentionBias(mask, t, -1e9))).toEqual(bitsOf(want));
    });
  });

  it.each([...FIXTURE_NAMES, "tiny"])("a forward with them (no tape) = the taped forward (%s)", (name) => {
    const model = loadModel(name === "tiny" ? ensureTinyModel() : fixtureDir(name));
    const batch = tokenBatch([[5, 9, 2, 7, 1, 3], [0, 0, 0, 4, 4, 8]], [[1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]]); // left-padded
    const plain = forward(model, batch).hidden;
    let taped: tf.Tensor | undefined;
    const dummy = tf.scalar(1);
    const g = tf.grad((s: tf.Tensor) => {
      expect(isFusable()).toBe(false);
      taped = tf.keep(forward(model, batch).hidden);
      return taped.sum().mul(s);
    })(dummy);
    expect(bitsOf(plain)).toEqual(bitsOf(taped!));
    tf.dispose([plain, taped!, dummy, g]);
    disposeBatch(batch);
    disposeModel(model);
  });

  /** Rank-4 adapters on every linear, B random (not zero), so the LoRA term changes the numbers. */
  function randomAdapters(model: QwenModel): Adapters {
    const terms = model.weights.layers.flatMap((l, i) => Object.values(l.linears).map((lin, j) => {
      const { inDim, outDim } = weightDims(lin.weight);
      return [lin.key, { aT: random([inDim, 4], 100 + 10 * i + j, 0.1) as tf.Tensor2D, bT: random([4, outDim], 200 + 10 * i + j, 0.1) as tf.Tensor2D, scale: 2 }] as const;
    }));
    return new Map(terms);
  }

  /** A prefill of a left-padded batch, then two decode steps, with the KV cache: every hidden state and cache tensor. */
  function decode(model: QwenModel, adapters: Adapters | undefined): tf.Tensor[] {
    const steps = [{ ids: [[5, 9, 2, 7, 1, 3], [0, 0, 0, 4, 4, 8]], mask: [[1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]] }, { ids: [[6], [2]], mask: [[1], [1]] }, { ids: [[3], [7]], mask: [[1], [1]] }];
    let cache: KvCache = emptyCache();
    let mask: number[][] = [[], []];
    const kept: tf.Tensor[] = [];
    for (const [n, step] of steps.entries()) {
      mask = mask.map((row, r) => [...row, ...step.mask[r]]);
      const batch = tokenBatch(step.ids, null);
      const positions = n === 0 ? tokenBatch(step.ids, step.mask).positions : Int32Array.from([5 + n, 2 + n]);
      const keyMask = tf.tensor2d(mask.flat(), [2, mask[0].length]);
      const out = forward(model, { ids: batch.ids, positions, keyMask, cache, adapters });
      kept.push(out.hidden, ...out.cache!.layers.flatMap((l) => [l.keys, l.values]));
      cache = out.cache!;
      tf.dispose([keyMask, batch.ids, batch.keyMask]);
    }
    return kept;
  }

  /** f's tensors computed under a gradient tape, where nothing is fused. */
  function taped(f: () => tf.Tensor[]): tf.Tensor[] {
    let out: tf.Tensor[] = [];
    const dummy = tf.scalar(1);
    const g = tf.grad((s: tf.Tensor) => {
      expect(isFusable()).toBe(false);
      out = f().map((t) => tf.keep(t));
      return out[0].sum().mul(s);
    })(dummy);
    tf.dispose([dummy, g]);
    return out;
  }

  it.each([...FIXTURE_NAMES, "tiny"].flatMap((name) => [[name, false], [name, true]]))("fused decoder layers with the KV cache = the taped chain (%s, LoRA %s), on 1 and 3 threads", (name, hasLora) => {
    const model = loadModel(name === "tiny" ? ensureTinyModel() : fixtureDir(name as string));
    const adapters = hasLora ? randomAdapters(model) : undefined;
    const want = taped(() => decode(model, adapters)).map(bitsOf);
    const threads = nativeThreadCount();
    for (const n of [1, 3]) {
      setNativeThreads(n);
      const got = decode(model, adapters);
      expect(got.map(bitsOf)).toEqual(want);
      tf.dispose(got);
    }
    setNativeThreads(threads);
    for (const t of adapters?.values() ?? []) tf.dispose([t.aT, t.bT]);
    disposeModel(model);
  });

  /** The loss Σ hidden ⊙ r of a left-padded batch and its gradients for every LoRA factor (variables). */
  function lossAndGrads(model: QwenModel, adapters: Adapters, checkpoint: boolean): tf.Tensor[] {
    const batch = tokenBatch([[5, 9, 2, 7, 1, 3, 8, 8], [0, 0, 0, 4, 4, 8, 1, 2]], [[1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1]]);
    const r = random([2, 8, model.config.hiddenSize], 7);
    const vars = [...adapters.values()].flatMap((t) => [t.aT, t.bT]) as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => forward(model, { ...batch, adapters, checkpoint }).hidden.mul(r).sum() as tf.Scalar, vars);
    tf.dispose(r);
    disposeBatch(batch);
    return [value, ...vars.map((v) => grads[v.name])];
  }

  it.each([...FIXTURE_NAMES, "tiny"].flatMap((name) => [[name, false], [name, true]]))("fused LoRA linears in a taped forward: the same loss and gradients as the chain (%s, checkpoint %s)", (name, checkpoint) => {
    const model = loadModel(name === "tiny" ? ensureTinyModel() : fixtureDir(name as string));
    const fixed = randomAdapters(model);
    const adapters: Adapters = new Map([...fixed].map(([k, t]) => [k, { ...t, aT: tf.variable(t.aT), bT: tf.variable(t.bT) }]));
    setFusedLinear(false);
    const want = lossAndGrads(model, adapters, checkpoint as boolean);
    setFusedLinear(true);
    const threads = nativeThreadCount();
    for (const n of [1, 3]) {
      setNativeThreads(n);
      const got = lossAndGrads(model, adapters, checkpoint as boolean);
      expect(got.map(bitsOf)).toEqual(want.map(bitsOf));
      tf.dispose(got);
    }
    setNativeThreads(threads);
    tf.dispose([...want, ...[...fixed.values(), ...adapters.values()].flatMap((t) => [t.aT, t.bT])]);
    disposeModel(model);
  });
});
