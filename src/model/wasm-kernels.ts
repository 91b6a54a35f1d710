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
 * Parity with the `cpu` backend is tested in test/model/backend.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

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

let isRegistered = false;

/** Registers the missing kernels for the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (isRegistered) return;
  isRegistered = true;
  tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: "wasm", kernelFunc: unsortedSegmentSum as tf.KernelFunc });
  tf.unregisterKernel(tf.Identity, "wasm");
  tf.registerKernel({ kernelName: tf.Identity, backendName: "wasm", kernelFunc: identity as tf.KernelFunc });
}
