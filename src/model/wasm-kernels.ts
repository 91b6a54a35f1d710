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
 * - GatherV2 along axis 0: row copies instead of the wasm kernel's element-by-element indexing.
 * - Slice and Concat: tfjs-wasm's kernels first read every input out of the heap with `readSync`,
 *   which copies it whole — slicing one 16 k-row block out of a 151 k-vocabulary head copied the
 *   545 MB head (≈ 0.5 s) to keep 58 MB of it. Ours copy only the output's runs, from views of the
 *   heap taken after the output is allocated. Same bits (they only move data).
 * Parity with the `cpu` backend is tested in test/model/backend.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { nativeAddon, nativeBatchMatMul, nativeExp } from "./native-kernels.ts";

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

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Contiguous runs of a slice: calls `copy(from, to, length)` in element offsets for every index of
 * the leading axes. Trailing axes taken whole merge into one run with the axis before them (a
 * block of whole rows is one copy).
 */
function forEachRun(shape: readonly number[], begin: readonly number[], size: readonly number[], copy: (from: number, to: number, length: number) => void): void {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  let k = shape.length - 1; // the run's axis
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  const run = size.slice(k).reduce((a, b) => a * b, 1);
  const runs = size.slice(0, k).reduce((a, b) => a * b, 1);
  const index = new Array(k).fill(0);
  for (let r = 0; r < runs; r++) {
    let from = begin[k] * strides[k];
    for (let d = 0; d < k; d++) from += (begin[d] + index[d]) * strides[d];
    copy(from, r * run, run);
    for (let d = k - 1; d >= 0 && ++index[d] === size[d]; d--) index[d] = 0;
  }
}

type Floats = ReturnType<BackendWasm["typedArrayFromHeap"]>;

/** dst[to …] = src[from …], n elements: a plain loop for short runs (a subarray view per run cost more than the copy). */
function copyRun(src: Floats, from: number, dst: Floats, to: number, n: number): void {
  if (n >= 64) dst.set(src.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
}

function fastSlice(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === "string" || x.shape.length === 0) return original(args as never) as tf.TensorInfo;
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const out = backend.makeOutput(size_, x.dtype);
    if (size_.some((d) => d === 0)) return out;
    const [src, dst] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)]; // views after the allocation
    forEachRun(x.shape, begin_, size_, (from, to, n) => copyRun(src, from, dst, to, n));
    return out;
  };
}

function fastConcat(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const inputs = (args.inputs as unknown as tf.TensorInfo[]).filter((t) => t.shape.reduce((a, b) => a * b, 1) > 0);
    const axisAttr = (args.attrs as { axis: number }).axis;
    if (inputs.length === 0 || inputs.some((t) => t.dtype === "string" || t.dtype === "complex64")) return original(args as never) as tf.TensorInfo;
    const rank = inputs[0].shape.length;
    const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
    const outShape = [...inputs[0].shape];
    outShape[axis] = inputs.reduce((a, t) => a + t.shape[axis], 0);
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    const dst = backend.typedArrayFromHeap(out); // views after the allocation
    const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inners = inputs.map((t) => t.shape.slice(axis).reduce((a, b) => a * b, 1));
    const width = inners.reduce((a, b) => a + b, 0);
    inputs.forEach((t, i) => {
      const src = backend.typedArrayFromHeap(t);
      const offset = inners.slice(0, i).reduce((a, b) => a + b, 0);
      for (let o = 0; o < outer; o++) copyRun(src, o * inners[i], dst, o * width + offset, inners[i]);
    });
    return out;
  };
}

/**
 * SplitV as slices through the fast Slice above: tfjs-wasm's SplitV calls its own Slice, which
 * reads the whole input out of the heap once per piece (RoPE's split of q and k, and Concat's
 * gradient, in every taped layer).
 */
function fastSplitV(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === "string" || x.dtype === "complex64" || x.shape.length === 0) return original(args as never) as tf.TensorInfo[];
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
    const outs = sizes.map((n) => backend.makeOutput(x.shape.map((d, i) => (i === $axis ? n : d)), x.dtype));
    const src = backend.typedArrayFromHeap(x); // views after every allocation
    let offset = 0;
    outs.forEach((out, k) => {
      const dst = backend.typedArrayFromHeap(out);
      if (dst.length > 0) forEachRun(x.shape, x.shape.map((_, i) => (i === $axis ? offset : 0)), out.shape, (from, to, n) => copyRun(src, from, dst, to, n));
      offset += sizes[k];
    });
    return outs;
  };
}

/**
 * GatherV2 along axis 0 (an embedding lookup: a few rows of a [V, C] table) as row copies; the
 * wasm kernel indexes element by element through 4-D strides (≈ 0.4–0.8 ms to gather 1–16 rows of
 * the tiny model's 8,192 × 128 table, every decode step). Other axes go to the wasm kernel.
 */
function fastGather(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    const isRows = (axis === 0 || axis === -x.shape.length) && batchDims === 0 && x.shape.length > 0;
    if (!isRows || x.dtype === "string" || x.dtype === "complex64" || indices.dtype !== "int32") return original(args as never) as tf.TensorInfo;
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const [src, ids, dst] = [x, indices, out].map((t) => backend.typedArrayFromHeap(t)); // views after the allocation
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i];
      if (!(row >= 0 && row < x.shape[0])) throw new Error(`GatherV2: the index value ${row} is not in [0, ${x.shape[0] - 1}]`);
      dst.set(src.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
    }
    return out;
  };
}

/** The native kernel when the addon is loaded and takes these inputs, else the wasm one. */
function preferNative(native: (args: KernelArgs) => tf.TensorInfo | undefined) {
  return (original: tf.KernelFunc) => (args: KernelArgs): tf.TensorInfo => (nativeAddon() && native(args)) || (original(args as never) as tf.TensorInfo);
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
  for (const [name, wrap] of [[tf.Slice, fastSlice], [tf.Concat, fastConcat], [tf.SplitV, fastSplitV], [tf.GatherV2, fastGather], [tf.Exp, preferNative(nativeExp)]] as const) {
    const kernel = tf.getKernel(name, "wasm")!;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ ...kernel, kernelFunc: wrap(kernel.kernelFunc) as tf.KernelFunc });
  }
}
