/**
 * Kernels that our forward/backward needs but the tfjs wasm backend does not ship, or ships in a
 * form training cannot afford.
 * - UnsortedSegmentSum: the gradient of `gather` (gathering hidden rows at sampled positions).
 *   Plain JS over the wasm heap; not hot (one call per backward pass).
 * - Identity (`tf.clone`): the wasm kernel copies the data, and the gradient tape clones every
 *   tensor it saves for the backward pass — so on wasm every saved activation existed twice, and
 *   a frozen weight read by a taped op (the 545 MB embedding of a 151k-vocabulary model) was
 *   copied on every training forward. Tensors are immutable, so the clone shares the data and
 *   bumps its reference count, as the cpu and webgl backends do.
 * - BatchMatMul with batch dimensions: the wasm kernel hands only single products to XNNPACK
 *   (~26 GFLOP/s here) and multiplies batches in a plain loop (~2 GFLOP/s). Attention is a batch
 *   of products ([B, kv heads] of them), and it was half of a prefill's time. Every product of a
 *   plain (untransposed) batch is now copied out and multiplied alone by the single-product path.
 *   Large ones gain ~10× (a call costs ~30 µs: break-even near 65 k multiply-adds); a decode
 *   step's small ones cost about the same either way (a smoke step's generate phase measured
 *   3.4–3.6 s both ways). Always splitting also makes a sequence's numbers independent of the
 *   batch it shares: the loop's tiling depended on the batch's padding, and a lone row took the
 *   single-product path anyway, so rollouts split over threads (rl/pool.ts) match exactly.
 * Parity with the `cpu` backend is tested in test/model/backend.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { nativeAddon, nativeBatchMatMul } from "./native-kernels.ts";

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  // segmentIds covers the leading dims of x; every remaining dim is one "row" of width rowSize
  const segmentCount = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const out = new Float32Array(numSegments * rowSize);
  for (let s = 0; s < segmentCount; s++) {
    const target = ids[s];
    if (target < 0 || target >= numSegments) continue; // TF semantics: out-of-range ids are dropped
    for (let j = 0; j < rowSize; j++) out[target * rowSize + j] += values[s * rowSize + j];
  }
  return backend.makeOutput([numSegments, ...rowShape], x.dtype, undefined, out);
}

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

type BatchMatMulAttrs = { transposeA: boolean; transposeB: boolean };

/** Copies rows · cols floats of `src`, from `offset` on, into a new [rows, cols] tensor. */
function sliceOut(backend: BackendWasm, src: tf.TensorInfo, offset: number, rows: number, cols: number): tf.TensorInfo {
  const out = backend.makeOutput([rows, cols], "float32");
  const from = backend.typedArrayFromHeap(src) as Float32Array; // after the allocation: it may move the heap
  (backend.typedArrayFromHeap(out) as Float32Array).set(from.subarray(offset, offset + rows * cols));
  return out;
}

function splitBatchMatMul(original: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    if (nativeAddon()) {
      const out = nativeBatchMatMul(args);
      if (out) return out;
    }
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batch = Math.max(batchA, batchB);
    const isPlain = !transposeA && !transposeB && a.dtype === "float32" && b.dtype === "float32";
    const isAligned = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1) && a.shape.length === b.shape.length;
    if (batch === 1 || !isPlain || !isAligned) return original(args as never) as tf.TensorInfo;
    const outShape = [...(batchA === batch ? a : b).shape.slice(0, -2), m, n];
    const out = backend.makeOutput(outShape, "float32");
    for (let i = 0; i < batch; i++) {
      const ai = sliceOut(backend, a, (batchA === 1 ? 0 : i) * m * k, m, k);
      const bi = sliceOut(backend, b, (batchB === 1 ? 0 : i) * k * n, k, n);
      const yi = original({ inputs: { a: ai, b: bi }, backend: args.backend, attrs: args.attrs } as never) as tf.TensorInfo;
      (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(yi) as Float32Array, i * m * n);
      for (const t of [ai, bi, yi]) backend.disposeData(t.dataId);
    }
    return out;
  };
}

let isRegistered = false;

/** Registers the missing kernels for the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (isRegistered) return;
  isRegistered = true;
  tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: "wasm", kernelFunc: unsortedSegmentSum as tf.KernelFunc });
  tf.unregisterKernel(tf.Identity, "wasm");
  tf.registerKernel({ kernelName: tf.Identity, backendName: "wasm", kernelFunc: identity as tf.KernelFunc });
  const bmm = tf.getKernel(tf.BatchMatMul, "wasm")!;
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel({ ...bmm, kernelFunc: splitBatchMatMul(bmm.kernelFunc) as tf.KernelFunc });
}
