/**
 * What trirl adds to the tfjs webgpu backend (the counterpart of wasm-kernels.ts, which patches
 * wasm gaps the webgpu backend does not have: its batched products, clone and UnsortedSegmentSum
 * are native).
 * - AddN: tfjs-webgpu binds every input as its own storage buffer, and WebGPU's default limit is
 *   8 per shader stage (7 inputs + the output). Past it the pipeline is invalid and the result is
 *   silently stale memory (found: Adam's global gradient norm over 28 LoRA tensors read 0). Long
 *   sums run as chunks of 7, each added onto the running total, left to right.
 * - Device errors: a WebGPU validation error does not throw; the command is dropped and its
 *   output keeps stale data. `watchDeviceErrors` turns the first one into an exception, so a
 *   run stops instead of training on garbage.
 */
import * as tf from "@tensorflow/tfjs";

const MAX_INPUTS = 7;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Disposer = { disposeData(id: object): void };

function chunkedAddN(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const tensors = args.inputs as unknown as tf.TensorInfo[];
    if (tensors.length <= MAX_INPUTS) return original(args as never) as tf.TensorInfo;
    let total = original({ ...args, inputs: tensors.slice(0, MAX_INPUTS) } as never) as tf.TensorInfo;
    for (let i = MAX_INPUTS; i < tensors.length; i += MAX_INPUTS - 1) {
      const next = original({ ...args, inputs: [total, ...tensors.slice(i, i + MAX_INPUTS - 1)] } as never) as tf.TensorInfo;
      (args.backend as Disposer).disposeData(total.dataId);
      total = next;
    }
    return total;
  };
}

let isRegistered = false;

/** Registers the replacements for the webgpu backend (idempotent). */
export function registerWebgpuKernels(): void {
  if (isRegistered) return;
  isRegistered = true;
  const addN = tf.getKernel(tf.AddN, "webgpu")!;
  tf.unregisterKernel(tf.AddN, "webgpu");
  tf.registerKernel({ ...addN, kernelFunc: chunkedAddN(addN.kernelFunc) as tf.KernelFunc });
}

type Device = { addEventListener(type: "uncapturederror", f: (e: { error: { message: string } }) => void): void };

/** Throws (asynchronously, as an uncaught error) at the device's first validation or out-of-memory error. */
export function watchDeviceErrors(device: Device): void {
  device.addEventListener("uncapturederror", (e) => {
    setImmediate(() => {
      throw new Error(`WebGPU device error (the computation is not valid): ${e.error.message}`);
    });
  });
}
