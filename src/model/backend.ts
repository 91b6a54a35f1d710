/**
 * The one place that picks and initialises the tfjs backend.
 * - wasm (default on CPU): XNNPACK + SIMD, ~20 GFLOP/s matmul on one core; missing kernels are
 *   registered from wasm-kernels.ts. Single-threaded: tfjs-wasm's threaded build can be started
 *   under Node (its pthread workers need file paths instead of blob: URLs, and its pool is capped
 *   at half of `os.cpus()`), and two threads double a 1024² product (26 → 58 GFLOP/s here), but
 *   it deadlocked in 2 of 6 tiny-model training runs (every thread asleep), so it is not used.
 * - cpu: pure-JS reference backend (slow; kept as a fallback and for kernel parity tests).
 * - webgpu: `@tensorflow/tfjs-backend-webgpu` on the `webgpu` npm package (Dawn) — optional deps,
 *   loaded on demand. - tensorflow: `@tensorflow/tfjs-node` (libtensorflow), optional.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { registerWasmKernels } from "./wasm-kernels.ts";

export const BACKENDS = ["wasm", "cpu", "webgpu", "tensorflow"] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);

/** Initialises `name` and makes it the active backend; returns the name tfjs reports. */
export async function initBackend(name: BackendName = "wasm"): Promise<string> {
  if (tf.getBackend() === name) return name;
  if (name === "wasm") await prepareWasm();
  else if (name === "webgpu") await prepareWebgpu();
  else if (name === "tensorflow") await importOptional("@tensorflow/tfjs-node", "tensorflow");
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend "${name}" failed to initialise`);
  await tf.ready();
  return tf.getBackend();
}

async function prepareWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const dist = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
  wasm.setWasmPaths(dist);
  registerWasmKernels();
}

async function prepareWebgpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const dawn = (await importOptional("webgpu", "webgpu")) as { create(flags: string[]): unknown; globals: object };
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn.create([]) }, configurable: true });
  }
  await importOptional("@tensorflow/tfjs-backend-webgpu", "webgpu");
}

async function importOptional(pkg: string, backend: string): Promise<unknown> {
  try {
    return await import(pkg);
  } catch (cause) {
    throw new Error(`backend "${backend}" needs the optional package ${pkg}\n---> HINT: npm install ${pkg}`, { cause });
  }
}
