/**
 * Episodes → tensors for the loss: left-padded ids [n, T], positions, key mask, and the flat
 * indices of the positions that predict a sampled token, with those tokens as targets. Built
 * from each episode's own `sampled` mask (recorded by the sampler), never by re-tokenising.
 * With `sharePrefix`, the tokens every episode begins with (a group's prompt) are held once and
 * the continuations go into parts of similar length (`lengthBuckets`): see `SharedPrefixBatch`.
 */
import * as tf from "@tensorflow/tfjs";
import type { Episode } from "../rollout/rollout.ts";
import { assert } from "../util/assert.ts";
import { tokenBatch } from "../model/inputs.ts";
import type { SequenceBatch, SharedPrefixBatch } from "./logprobs.ts";

/** Token sequences with a training mask: rollouts, or reference transcripts for the warm start. */
export type MaskedSequence = Pick<Episode, "tokens" | "sampled" | "logprobs">;

export type TrainBatch = {
  seq: SequenceBatch | SharedPrefixBatch;
  /** Per sampled token, in `predictAt` order: sampler log-prob and the episode's advantage. [M] */
  oldLogprobs: Float32Array;
  advantages: Float32Array;
  /** Per sampled token, in `predictAt` order: how many sampled tokens its episode has. [M] */
  episodeTokens: Float32Array;
  tokenCount: number; // M
};

/**
 * Tokens that every episode begins with and that predict no sampled token (the prediction of an
 * episode's first sampled token stays with its continuation).
 */
export function sharedPrefixLength(episodes: readonly MaskedSequence[]): number {
  const firstSampled = (e: MaskedSequence) => (e.sampled.includes(1) ? e.sampled.indexOf(1) : e.tokens.length);
  const limit = Math.min(...episodes.map((e) => firstSampled(e) - 1));
  const first = episodes[0].tokens;
  for (let i = 0; i < limit; i++) if (episodes.some((e) => e.tokens[i] !== first[i])) return i;
  return Math.max(limit, 0);
}

/**
 * Groups sequence indices into parts of similar length, shortest first, so that padding each part
 * to its longest adds at most `slack` of its real tokens: fewer, larger passes (per-kernel cost
 * dominates small ones) without paying for a long tail of padding.
 */
export function lengthBuckets(lengths: readonly number[], slack = 0.25): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const parts: number[][] = [];
  let sum = 0;
  for (const i of order) {
    const part = parts[parts.length - 1];
    if (part && lengths[i] * (part.length + 1) <= (1 + slack) * (sum + lengths[i])) {
      part.push(i);
      sum += lengths[i];
    } else {
      parts.push([i]);
      sum = lengths[i];
    }
  }
  return parts;
}

/** The episodes' tokens from `start` on, left-padded into one [n, T] part after `start` prefix slots. */
function padded(episodes: readonly MaskedSequence[], advantages: ArrayLike<number>, start: number, padId: number) {
  const t = Math.max(...episodes.map((e) => e.tokens.length - start));
  const n = episodes.length;
  const width = start + t; // key slots: the prefix, then this part's own
  const ids = new Int32Array(n * t).fill(padId);
  const positions = new Int32Array(n * t);
  const keyMask = new Float32Array(n * width);
  const predictAt: number[] = [];
  const targets: number[] = [];
  const oldLogprobs: number[] = [];
  const adv: number[] = [];
  const lengths: number[] = [];
  episodes.forEach((e, row) => {
    const sampledCount = e.sampled.reduce((a, b) => a + b, 0);
    keyMask.fill(1, row * width, row * width + start);
    const offset = t - (e.tokens.length - start); // left padding
    for (let i = start; i < e.tokens.length; i++) {
      const flat = row * t + offset + i - start;
      ids[flat] = e.tokens[i];
      positions[flat] = i;
      keyMask[row * width + offset + i] = 1; // slot start + (offset + i − start)
      // the first token has no predecessor to predict it; sampled tokens never come first
      if (e.sampled[i] && i > start) {
        predictAt.push(flat - 1);
        targets.push(e.tokens[i]);
        oldLogprobs.push(e.logprobs[i]);
        adv.push(advantages[row]);
        lengths.push(sampledCount);
      }
    }
  });
  const seq: SequenceBatch = {
    ids: tf.tensor2d(ids, [n, t], "int32"),
    positions,
    keyMask: tf.tensor2d(keyMask, [n, width], "float32"),
    predictAt: tf.tensor1d(predictAt, "int32"),
    targets: tf.tensor1d(targets, "int32"),
  };
  return { seq, oldLogprobs, adv, lengths };
}

export function buildBatch(episodes: readonly MaskedSequence[], advantages: ArrayLike<number>, padId: number, opts: { sharePrefix?: boolean } = {}): TrainBatch {
  assert(episodes.length > 0 && episodes.length === advantages.length, `buildBatch: ${episodes.length} episodes, ${advantages.length} advantages`);
  const p = opts.sharePrefix && episodes.length > 1 ? sharedPrefixLength(episodes) : 0;
  if (p === 0) {
    const { seq, oldLogprobs, adv, lengths } = padded(episodes, advantages, 0, padId);
    return { seq, oldLogprobs: Float32Array.from(oldLogprobs), advantages: Float32Array.from(adv), episodeTokens: Float32Array.from(lengths), tokenCount: oldLogprobs.length };
  }
  const parts = lengthBuckets(episodes.map((e) => e.tokens.length - p)).map((idx) => padded(idx.map((i) => episodes[i]), idx.map((i) => advantages[i]), p, padId));
  const oldLogprobs = Float32Array.from(parts.flatMap((x) => x.oldLogprobs));
  return {
    seq: { prefix: tokenBatch([Array.from(episodes[0].tokens.subarray(0, p))], null), parts: parts.map((x) => x.seq) },
    oldLogprobs,
    advantages: Float32Array.from(parts.flatMap((x) => x.adv)),
    episodeTokens: Float32Array.from(parts.flatMap((x) => x.lengths)),
    tokenCount: oldLogprobs.length,
  };
}

export function disposeBatch(batch: TrainBatch): void {
  const seq = batch.seq;
  const tensors = (s: SequenceBatch) => [s.ids, s.keyMask, s.predictAt, s.targets];
  if ("parts" in seq) tf.dispose([seq.prefix.ids, seq.prefix.keyMask, ...seq.parts.flatMap(tensors)]);
  else tf.dispose(tensors(seq));
}

/** Splits `items` into consecutive slices of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
