/**
 * Batched generation with a KV cache: left-pads the prompts, prefills once, then decodes one
 * token per row per step, reading back only the last position's logits ([B, V], never [B, T, V]).
 * Each row has its own RNG and the padded width is aligned (`PAD_ALIGN`), so a row's tokens and
 * log-probs do not depend on what else is in the batch, to the bit.
 * Rows stop at a stop id (the stop token is kept) or after `maxNewTokens`; once a quarter of the
 * batch has stopped, the stopped rows are dropped from the cache (`compact`).
 */
import * as tf from "@tensorflow/tfjs";
import { assert } from "../util/assert.ts";
import type { Rng } from "../util/rng.ts";
import { disposeCache, emptyCache, type KvCache } from "./kv-cache.ts";
import { forward, lmHead, type Adapters } from "./qwen.ts";
import { sampleToken, type SamplingOptions } from "./sample.ts";
import { logSumExpRows } from "./softmax-kernels.ts";
import type { QwenModel } from "./weights.ts";

export type GenerateOptions = SamplingOptions & {
  maxNewTokens: number;
  stopIds: readonly number[];
  /** One RNG per prompt. */
  rngs: readonly Rng[];
  adapters?: Adapters;
  padId?: number;
};

export type Generation = {
  tokens: number[]; // new tokens, the stop token included
  logprobs: number[]; // sampler log-prob of each new token
  finish: "stop" | "length";
};

/**
 * The padded width is a multiple of this, so a row's padding modulo the SIMD width depends on the
 * row alone: the wasm softmax sums 4-float lanes, and padding that shifted a row's keys across
 * lanes changed its sums in the last bit. With it (and wasm-kernels.ts splitting every batched
 * product), a row's tokens and log-probs are bit-identical whatever batch it is in — tested, and
 * what lets rollouts split over threads (rl/pool.ts). 4 is enough here; 16 leaves a margin.
 */
export const PAD_ALIGN = 16;

type DecodeState = { cache: KvCache; keyMask: number[][]; nextPosition: number[] };

/**
 * Runs the model on `ids` ([B][T], already aligned with the state) and returns last-position
 * logits, with each row's log Σ exp(logits · `scale`) for the sampler's log-prob.
 */
async function step(model: QwenModel, state: DecodeState, ids: number[][], positions: number[][], { adapters, scale }: { adapters?: Adapters; scale: number }) {
  const b = ids.length;
  const t = ids[0].length;
  const s = state.keyMask[0].length;
  const idsT = tf.tensor2d(ids.flat(), [b, t], "int32");
  const maskT = tf.tensor2d(state.keyMask.flat(), [b, s], "float32");
  const out = forward(model, { ids: idsT, positions: Int32Array.from(positions.flat()), keyMask: maskT, cache: state.cache, adapters });
  const logits = tf.tidy(() => lmHead(model, out.hidden.slice([0, t - 1, 0], [b, 1, -1]).reshape([b, -1]))); // [B, V]
  tf.dispose([idsT, maskT, out.hidden]);
  disposeCache(state.cache);
  state.cache = out.cache!;
  const lse = logSumExpRows(logits as tf.Tensor2D, scale); // [B]
  const [values, lses] = (await Promise.all([logits.data(), lse.data()])) as [Float32Array, Float32Array];
  tf.dispose([logits, lse]);
  const v = model.config.vocabSize;
  return Array.from({ length: b }, (_, r) => ({ row: values.subarray(r * v, (r + 1) * v), lse: lses[r] }));
}

/** Keeps the batch rows `keep` (indices into the current batch) of the decode state. */
function compact(state: DecodeState, keep: number[]): void {
  const idx = tf.tensor1d(keep, "int32");
  const layers = state.cache.layers.map((l) => ({ keys: tf.gather(l.keys, idx), values: tf.gather(l.values, idx) }));
  idx.dispose();
  disposeCache(state.cache);
  state.cache = { layers };
  state.keyMask = keep.map((r) => state.keyMask[r]);
  state.nextPosition = keep.map((r) => state.nextPosition[r]);
}

export async function generate(model: QwenModel, prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
  assert(prompts.length > 0 && prompts.every((p) => p.length > 0), "generate: every prompt needs at least one token");
  assert(opts.rngs.length === prompts.length, `generate: ${opts.rngs.length} rngs for ${prompts.length} prompts`);
  const width = Math.ceil(Math.max(...prompts.map((p) => p.length)) / PAD_ALIGN) * PAD_ALIGN;
  const pad = opts.padId ?? 0;
  const ids = prompts.map((p) => [...Array(width - p.length).fill(pad), ...p]);
  const keyMask = prompts.map((p) => [...Array(width - p.length).fill(0), ...Array(p.length).fill(1)]);
  const positions = prompts.map((p) => [...Array(width - p.length).fill(0), ...p.map((_, i) => i)]);
  const state: DecodeState = { cache: emptyCache(), keyMask, nextPosition: prompts.map((p) => p.length) };
  const results: Generation[] = prompts.map(() => ({ tokens: [], logprobs: [], finish: "length" }));
  const stop = new Set(opts.stopIds);
  let rowsOf = prompts.map((_, r) => r); // batch row → prompt
  const isStopped = (r: number) => results[r].finish === "stop";
  try {
    const stepOpts = { adapters: opts.adapters, scale: opts.temperature > 0 ? 1 / opts.temperature : 1 };
    let logits = await step(model, state, ids, positions, stepOpts);
    for (let n = 0; n < opts.maxNewTokens; n++) {
      logits.forEach(({ row, lse }, i) => {
        const r = rowsOf[i];
        if (isStopped(r)) return;
        const { token, logprob } = sampleToken(row, opts, opts.rngs[r], lse);
        results[r].tokens.push(token);
        results[r].logprobs.push(logprob);
        if (stop.has(token)) results[r].finish = "stop";
      });
      const live = rowsOf.flatMap((r, i) => (isStopped(r) ? [] : [i]));
      if (live.length === 0 || n === opts.maxNewTokens - 1) break;
      // a decode step costs ~7× more at 32 rows than at 1 (per-kernel overhead, attention), so once
      // a quarter of the rows have stopped the others go on without them; until then stopped rows
      // decode pad tokens whose outputs are ignored
      if (live.length <= (3 * rowsOf.length) / 4) {
        compact(state, live);
        rowsOf = live.map((i) => rowsOf[i]);
      }
      state.keyMask.forEach((row) => row.push(1));
      const next = rowsOf.map((r) => [isStopped(r) ? pad : results[r].tokens.at(-1)!]);
      logits = await step(model, state, next, state.nextPosition.map((p) => [p]), stepOpts);
      state.nextPosition = state.nextPosition.map((p) => p + 1);
    }
  } finally {
    disposeCache(state.cache);
  }
  return results;
}
