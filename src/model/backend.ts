/**
 * The one place that picks and initialises the tfjs backend.
 * - auto (default): webgpu when Dawn finds an adapter that is a real GPU (gpu.ts; SwiftShader and
 *   other software adapters do not count), else wasm. `chooseBackend` says which and why.
 * - wasm: XNNPACK + SIMD, ~20 GFLOP/s matmul on one core; missing kernels are
 *   registered from wasm-kernels.ts. Single-threaded: tfjs-wasm's threaded build can be started
 *   under Node (its pthread workers need file paths instead of blob: URLs, and its pool is capped
 *   at half of `os.cpus()`), and two threads double a 1024² product (26 → 58 GFLOP/s here), but
 *   it deadlocked in 2 of 6 tiny-model training runs (every thread asleep), so it is not used.
 * - cpu: pure-JS reference backend (slow; kept as a fallback and for kernel parity tests).
 * - webgpu: `@tensorflow/tfjs-backend-webgpu` on the `webgpu` npm package (Dawn), both installed
 *   by `npm install`; every kernel trirl uses exists there, and nothing on the trainer's paths
 *   reads a GPU tensor synchronously (tfjs-webgpu can only do that through a browser canvas).
 * - tensorflow: `@tensorflow/tfjs-node` (libtensorflow), optional.
 */
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describeAdapter, isRealGpu, noAdapterError, probeGpu } from "./gpu.ts";
import { registerFusedKernels } from "./fused-kernels.ts";
import { registerFusedLayer } from "./fused-layer.ts";
import { registerFusedLinear } from "./fused-linear.ts";
import { registerWasmKernels } from "./wasm-kernels.ts";
import { registerWebgpuKernels, watchDeviceErrors } from "./webgpu-kernels.ts";

export const BACKENDS = ["auto", "wasm", "cpu", "webgpu", "tensorflow"] as const;
/** A backend as asked for: a name, or "auto". */
export type BackendChoice = (typeof BACKENDS)[number];
/** A backend tfjs runs on. */
export type BackendName = Exclude<BackendChoice, "auto">;

/** The backend `choice` resolves to, and a one-line reason (for the user's stderr). */
export async function chooseBackend(choice: BackendChoice): Promise<{ name: BackendName; reason: string }> {
  if (choice !== "auto" && choice !== "webgpu") return { name: choice, reason: "as asked" };
  const probe = await probeGpu();
  if (choice === "webgpu") {
    if (!probe.adapter) throw noAdapterError(probe);
    return { name: "webgpu", reason: describeAdapter(probe.adapter) };
  }
  if (probe.adapter && isRealGpu(probe.adapter)) return { name: "webgpu", reason: `auto: ${describeAdapter(probe.adapter)}` };
  const why = probe.adapter ? `the only WebGPU adapter is ${describeAdapter(probe.adapter)}` : probe.missingPackage ? "the webgpu package is not installed" : "no WebGPU adapter (GPU) found";
  return { name: "wasm", reason: `auto: ${why}; --backend webgpu to use it anyway` };
}

const require = createRequire(import.meta.url);

/** Initialises `choice` (resolved by `chooseBackend`) and makes it the active backend; returns its name. */
export async function initBackend(choice: BackendChoice = "wasm"): Promise<BackendName> {
  const name = choice === "auto" ? (await chooseBackend(choice)).name : choice;
  if (tf.getBackend() === name) return name;
  if (name === "wasm") await prepareWasm();
  else if (name === "webgpu") await prepareWebgpu();
  else if (name === "tensorflow") await importOptional("@tensorflow/tfjs-node", "tensorflow");
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend "${name}" failed to initialise`);
  await tf.ready();
  if (name === "webgpu") await setUpWebgpu();
  return name;
}

async function prepareWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const dist = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
  wasm.setWasmPaths(dist);
  registerWasmKernels();
  registerFusedKernels();
  registerFusedLayer();
  registerFusedLinear();
}

type Gpu = { requestAdapter(o?: object): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> };

/** Dawn's `navigator.gpu` in Node, then the tfjs backend (which registers itself only where `navigator.gpu` exists). */
async function prepareWebgpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: Gpu } };
  if (!g.navigator?.gpu) {
    const dawn = (await importOptional("webgpu", "webgpu")) as { create(flags: string[]): Gpu; globals: object };
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn.create([]) }, configurable: true });
  }
  const adapter = await g.navigator!.gpu!.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw noAdapterError(await probeGpu());
  await importOptional("@tensorflow/tfjs-backend-webgpu", "webgpu");
}

/**
 * trirl's webgpu kernels and device-error watch (webgpu-kernels.ts). On a software adapter
 * (SwiftShader: CI), always the tiled matmul program: tfjs picks a
 * workgroup-reduction program for products with ≤ 128 outputs (every decode step's), whose
 * barriers SwiftShader runs ~35× slower (measured: [1, 64]·[64, 64] 90 ms vs 2.5 ms). A real GPU
 * keeps tfjs's own choice.
 */
async function setUpWebgpu(): Promise<void> {
  registerWebgpuKernels();
  watchDeviceErrors((tf.backend() as unknown as { device: Parameters<typeof watchDeviceErrors>[0] }).device);
  const adapter = await (globalThis as unknown as { navigator: { gpu: Gpu } }).navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  const MATMUL_PACKED = 3; // tfjs-backend-webgpu MatMulProgramType.MatMulPackedProgram
  if (adapter?.info?.isFallbackAdapter) tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", MATMUL_PACKED);
}

async function importOptional(pkg: string, backend: string): Promise<unknown> {
  try {
    return await import(pkg);
  } catch (cause) {
    throw new Error(`backend "${backend}" needs the optional package ${pkg}\n---> HINT: npm install ${pkg}`, { cause });
  }
}
