/** Makes any synchronous read of GPU-resident data on the active (webgpu) backend throw, naming it. */
import * as tf from "@tensorflow/tfjs";

type WebgpuInternals = { readSync(id: object): unknown; tensorMap: { get(id: object): { values: unknown; shape: number[] } } };

export function failSyncReads(): void {
  const backend = tf.backend() as unknown as WebgpuInternals;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (id) => {
    const data = backend.tensorMap.get(id);
    // values still on the host (never uploaded) read back for free, as on any backend
    if (data.values == null) throw new Error(`synchronous GPU read of a [${data.shape}] tensor (dataSync/arraySync on the webgpu backend)`);
    return readSync(id);
  };
}
