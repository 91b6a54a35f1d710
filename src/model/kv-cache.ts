/**
 * Key/value cache for incremental decoding: per layer, the rotated keys and the values of every
 * token seen so far, [B, K, S, D]. `forward` returns an extended cache and leaves the old one
 * alone; the owner disposes the old one (`disposeCache`) once it has the new.
 */
import type * as tf from "@tensorflow/tfjs";

export type KvCache = { layers: { keys: tf.Tensor4D; values: tf.Tensor4D }[] };

export function emptyCache(): KvCache {
  return { layers: [] };
}

export function disposeCache(cache: KvCache): void {
  for (const l of cache.layers) {
    l.keys.dispose();
    l.values.dispose();
  }
}
