/**
 * trirl's native matrix product for the wasm backend (native/sgemm.cc, built by `npm install` when
 * a C++ toolchain is present): AVX2 + FMA, multi-threaded, working in place on the wasm heap.
 * tfjs-wasm's XNNPACK product runs on one core at ≈ 25 GFLOP/s and its batched products in a plain
 * loop; this one takes every BatchMatMul (transposed operands and batches included) to all cores.
 * Each element of a product is summed over k in an order fixed by k alone, so results do not
 * depend on the thread count, on the rows a product shares, or on how it is tiled.
 * Also Exp: vectorised, ≈ 20× the wasm kernel's speed (the LM head's softmax over 151 k outputs).
 * When the addon is absent or the CPU lacks AVX2/FMA, the wasm kernels (wasm-kernels.ts) stay.
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Addon = {
  gemmBatch(heap: ArrayBufferLike, products: Int32Array, threads: number): void;
  exp(heap: ArrayBufferLike, from: number, to: number, count: number): void;
  softmaxRows(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  rmsNorm(heap: ArrayBufferLike, x: number, w: number, y: number, rows: number, cols: number, eps: number): void;
  attentionHeads(heap: ArrayBufferLike, ints: Int32Array, eps: number, scale: number): void;
  attentionIn(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  attentionOut(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  mlpOut(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  linearForward(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  linearBackward(heap: ArrayBufferLike, ints: Int32Array, floats: Float64Array): void;
  isSupported(): boolean;
};

const ADDON_PATH = path.join(import.meta.dirname, "..", "..", "build", "Release", "trirl_native.node");

let addon: Addon | null | undefined;

const ENTRY_POINTS = ["gemmBatch", "exp", "softmaxRows", "rmsNorm", "attentionHeads", "isSupported"] as const;

/** An addon built from older sources lacks entry points: say so once and use the wasm kernels. */
function isCurrent(loaded: Addon): boolean {
  const missing = ENTRY_POINTS.filter((name) => typeof loaded[name] !== "function");
  if (missing.length > 0) process.stderr.write(`trirl: ${ADDON_PATH} is out of date (no ${missing.join(", ")}): run \`npm rebuild\`; the wasm kernels are used\n`);
  return missing.length === 0;
}

/** The addon when it is built and this CPU runs it, else undefined (loaded once). */
export function nativeAddon(): Addon | undefined {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    const loaded = (() => {
      try {
        return require(ADDON_PATH) as Addon;
      } catch (error) {
        // not built (no compiler at install time): the wasm kernels are used
        return (error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" ? null : rethrow(error);
      }
    })();
    addon = loaded && isCurrent(loaded) && loaded.isSupported() ? loaded : null;
  }
  return addon ?? undefined;
}

function rethrow(error: unknown): never {
  throw new Error(`${ADDON_PATH}: cannot be loaded (${(error as Error).message})\n---> HINT: rebuild it with npm rebuild, or delete build/ to use the wasm kernels`, { cause: error });
}

let nativeThreads = Math.max(1, os.availableParallelism());

/** Threads of each native product in this thread (a pool of JS threads divides the cores among them). */
export function setNativeThreads(n: number): void {
  nativeThreads = Math.max(1, Math.floor(n));
}

/** Threads of each native product in this thread. */
export function nativeThreadCount(): number {
  return nativeThreads;
}

type Attrs = { transposeA: boolean; transposeB: boolean };

/**
 * BatchMatMul on the native product, or undefined for what it does not take (non-float32, batch
 * shapes that broadcast other than one side being 1); the caller then runs the wasm kernel.
 */
export function nativeBatchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | undefined {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as Attrs;
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length !== b.shape.length) return undefined;
  const [m, k] = transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
  const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1), batchB = outerB.reduce((x, y) => x * y, 1);
  const isSame = outerA.every((d, i) => d === outerB[i]);
  if (!isSame && batchA !== 1 && batchB !== 1) return undefined;
  const outer = batchA >= batchB ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], "float32");
  // views after the allocation: it may grow (and move) the heap
  const [va, vb, vc] = [a, b, out].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const products = new Int32Array(8 * batch);
  for (let i = 0; i < batch; i++) {
    products.set([va.byteOffset / 4 + (batchA === 1 ? 0 : i * m * k), vb.byteOffset / 4 + (batchB === 1 ? 0 : i * k * n), vc.byteOffset / 4 + i * m * n, m, n, k, Number(transposeA), Number(transposeB)], 8 * i);
  }
  nativeAddon()!.gemmBatch(vc.buffer, products, nativeThreads);
  return out;
}

/** Exp of a float32 tensor with the native vectorised exp (≈ 1 ulp; tfjs-wasm's is scalar), or undefined for other dtypes. */
export function nativeExp(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo | undefined {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype !== "float32") return undefined;
  const out = backend.makeOutput(x.shape, "float32");
  const [vx, vy] = [x, out].map((t) => backend.typedArrayFromHeap(t) as Float32Array); // after the allocation
  nativeAddon()!.exp(vy.buffer, vx.byteOffset / 4, vy.byteOffset / 4, vx.length);
  return out;
}

/** What tfjs hands a registered kernel. */
export type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * The wasm heap and each tensor's float offset in it (−1 = absent), for the addon's layer calls;
 * take them after every output is allocated (an allocation may move the heap).
 */
export function heapOffsets(backend: BackendWasm, anyTensor: tf.TensorInfo) {
  const heap = (backend.typedArrayFromHeap(anyTensor) as Float32Array).buffer;
  const at = (t: tf.TensorInfo | undefined) => (t ? (backend.typedArrayFromHeap(t) as Float32Array).byteOffset / 4 : -1);
  return { heap, at };
}

/** A linear's 8 ints for the addon (native/addon.cc Operands::linear): [w, bias, aT, bT, in, out, rank, transW]. */
export function linearOperand(at: (t: tf.TensorInfo | undefined) => number, l: { w: tf.TensorInfo; bias?: tf.TensorInfo; aT?: tf.TensorInfo; bT?: tf.TensorInfo; isOutIn: boolean }): number[] {
  const [inDim, outDim] = l.isOutIn ? [l.w.shape[1], l.w.shape[0]] : l.w.shape;
  return [at(l.w), at(l.bias), at(l.aT), at(l.bT), inDim, outDim, l.aT?.shape[1] ?? 0, Number(l.isOutIn)];
}

/** Registers `kernels` on the wasm backend when the addon is loaded; whether they are registered (idempotent). */
export function registerNativeKernels(kernels: Record<string, tf.KernelFunc>): boolean {
  if (!nativeAddon()) return false;
  for (const [kernelName, kernelFunc] of Object.entries(kernels))
    if (!tf.getKernel(kernelName, "wasm")) tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
  return true;
}
