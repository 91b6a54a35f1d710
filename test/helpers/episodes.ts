/** Hand-made token sequences for update and log-prob tests: no tokenizer or sandbox needed. */
import type { MaskedSequence } from "../../src/rl/batch.ts";

/** Sequences over ids 1..998 that share their first 4 tokens (a "prompt"); from position 5 on they count as sampled. */
export function syntheticEpisodes(lengths: readonly number[] = [14, 9, 17]): MaskedSequence[] {
  return lengths.map((n, e) => ({
    tokens: Int32Array.from({ length: n }, (_, i) => (i < 4 ? 7 + i : (i * 37 + e * 101) % 997) + 1),
    sampled: Uint8Array.from({ length: n }, (_, i) => (i >= 5 ? 1 : 0)),
    logprobs: Float32Array.from({ length: n }, (_, i) => (i >= 5 ? -6.5 - 0.01 * i : 0)),
  }));
}
