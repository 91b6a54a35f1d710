/**
 * The native product (native/sgemm.cc through model/native-kernels.ts) against a float64
 * reference: every transpose combination, broadcast batches, edge sizes; and the properties the
 * trainer relies on: the same bits whatever the thread count, a row's result independent of
 * the rows beside it, and of zero terms in front of the inner dimension.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/model/backend.ts";
import { nativeAddon, setNativeThreads } from "../../src/model/native-kernels.ts";
import { randNormal, seededRng } from "../../src/util/rng.ts";
import { expectClose } from "../helpers/expect-close.ts";

const hasNative = (await initBackend("wasm"), nativeAddon() !== undefined);
if (!hasNative) console.warn("native.test: skipped — build/Release/trirl_native.node not built or no AVX2/FMA (npm rebuild)");

function random(shape: number[], seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => randNormal(rng));
}

/** float64 op(A) · op(B) per batch entry; a batch of 1 broadcasts. */
function reference(a: Float32Array, b: Float32Array, s: { batchA: number; batchB: number; m: number; n: number; k: number; transA: boolean; transB: boolean }): Float64Array {
  const batch = Math.max(s.batchA, s.batchB);
  const out = new Float64Array(batch * s.m * s.n);
  for (let t = 0; t < batch; t++) {
    const ao = (s.batchA === 1 ? 0 : t) * s.m * s.k, bo = (s.batchB === 1 ? 0 : t) * s.k * s.n;
    for (let i = 0; i < s.m; i++)
      for (let j = 0; j < s.n; j++) {
        let sum = 0;
        for (let p = 0; p < s.k; p++) sum += a[ao + (s.transA ? p * s.m + i : i * s.k + p)] * b[bo + (s.transB ? j * s.k + p : p * s.n + j)];
        out[(t * s.m + i) * s.n + j] = sum;
      }
  }
  return out;
}

async function product(a: Float32Array, b: Float32Array, shapeA: number[], shapeB: number[], transA: boolean, transB: boolean): Promise<Float32Array> {
  const [ta, tb] = [tf.tensor(a, shapeA), tf.tensor(b, shapeB)];
  const y = tf.matMul(ta, tb, transA, transB);
  const out = (await y.data()) as Float32Array;
  tf.dispose([ta, tb, y]);
  return out;
}

describe.skipIf(!hasNative)("native exp", () => {
  it("is within 2.5e-7 relative of float64 over the float range, element by element, and keeps its special values", async () => {
    const xs = Float32Array.from({ length: 20_003 }, (_, i) => -95 + (190 * i) / 20_002); // a tail past the 8-wide vectors
    const got = (await tf.exp(tf.tensor1d(xs)).data()) as Float32Array;
    let worst = 0;
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      if (want < 1.1754944e-38) expect(got[i], `exp(${x})`).toBeLessThan(1.2e-38); // below the normal range: 0
      else if (want > 3.4028235e38) expect(got[i]).toBe(Infinity);
      else worst = Math.max(worst, Math.abs(got[i] - want) / want);
    });
    expect(worst).toBeLessThan(2.5e-7);
    const special = (await tf.exp(tf.tensor1d([NaN, -Infinity, Infinity, 0, -0, 88.5, -87.5])).data()) as Float32Array;
    expect([...special.slice(0, 5)]).toEqual([NaN, 0, Infinity, 1, 1]);
    expect(Math.abs(special[5] / Math.exp(88.5) - 1)).toBeLessThan(2.5e-7);
    expect(special[6]).toBe(0);
  });
});

describe.skipIf(!hasNative)("native matrix product", () => {
  beforeAll(() => setNativeThreads(2));

  it.each([
    [false, false], [true, false], [false, true], [true, true],
  ])("matches float64 for transposeA %s, transposeB %s, with edge sizes and broadcast batches", async (transA, transB) => {
    for (const [batchA, batchB, m, n, k] of [[1, 1, 1, 1, 1], [3, 3, 7, 17, 5], [2, 1, 13, 33, 300], [1, 4, 6, 16, 257], [2, 2, 50, 29, 37], [1, 1, 32, 70, 300], [1, 1, 100, 70, 600]]) {
      // 32 and 100 rows with B transposed run swapped; 100 rows with A transposed copy A into strips
      const shapeA = [batchA, ...(transA ? [k, m] : [m, k])], shapeB = [batchB, ...(transB ? [n, k] : [k, n])];
      const [a, b] = [random(shapeA, m + n), random(shapeB, k)];
      const got = await product(a, b, shapeA, shapeB, transA, transB);
      expectClose(got, reference(a, b, { batchA, batchB, m, n, k, transA, transB }), { atol: 2e-5 * Math.sqrt(k), rtol: 1e-5 });
    }
  });

  it("an inner dimension of 0 gives zeros", async () => {
    expect([...(await product(new Float32Array(0), new Float32Array(0), [3, 0], [0, 4], false, false))]).toEqual(Array(12).fill(0));
  });

  it.each([
    ["plain operands, several k and column blocks", 37, 600, 1100, false, false],
    ["B stored [n, k] and 32 rows: the swapped product", 32, 600, 1100, false, true],
    ["A transposed and 200 rows: A copied into strips", 200, 600, 300, true, false],
  ] as const)("gives the same bits on 1, 2 and 3 threads, and each row the bits it gets alone: %s", async (_, m, k, n, transA, transB) => {
    const shapeA = transA ? [k, m] : [m, k], shapeB = transB ? [n, k] : [k, n];
    const [a, b] = [random(shapeA, 1), random(shapeB, 2)];
    const runs = [];
    for (const threads of [1, 2, 3]) {
      setNativeThreads(threads);
      runs.push(Buffer.from((await product(a, b, shapeA, shapeB, transA, transB)).buffer));
    }
    expect(runs[1].equals(runs[0]) && runs[2].equals(runs[0])).toBe(true);
    for (const row of [0, 5, m - 1]) {
      const rowA = Float32Array.from({ length: k }, (_, p) => a[transA ? p * m + row : row * k + p]); // a lone row: never swapped or copied
      const alone = await product(rowA, b, [1, k], shapeB, false, transB);
      expect(Buffer.from(alone.buffer).equals(runs[0].subarray(row * n * 4, (row + 1) * n * 4)), `row ${row}`).toBe(true);
    }
    setNativeThreads(2);
  });

  it("gives the same bits with zero terms in front of the inner dimension (a left-padded batch's attention weights times values)", async () => {
    // the pool decodes each thread's episodes as one batch, left-padded to its longest prompt: the
    // attention weights of the padding are exact zeros, and the product must not see how many
    const [m, k, n] = [7, 600, 40];
    const [a, b] = [random([m, k], 3), random([k, n], 4)];
    const plain = Buffer.from((await product(a, b, [m, k], [k, n], false, false)).buffer);
    for (const pad of [1, 77, 256, 300]) {
      const ap = new Float32Array(m * (pad + k));
      for (let i = 0; i < m; i++) ap.set(a.subarray(i * k, (i + 1) * k), i * (pad + k) + pad);
      const bp = new Float32Array((pad + k) * n);
      bp.set(random([pad, n], 5));
      bp.set(b, pad * n);
      const padded = Buffer.from((await product(ap, bp, [m, pad + k], [pad + k, n], false, false)).buffer);
      expect(padded.equals(plain), `${pad} zero terms in front`).toBe(true);
    }
  });
});
