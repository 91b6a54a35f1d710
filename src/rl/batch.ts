/**
 * Episodes → tensors for the loss: left-padded ids [n, T], positions, key mask, and the flat
 * indices of the positions that predict a sampled token, with those tokens as targets. Built
 * from each episode's own `sampled` mask (recorded by the sampler), never by re-tokenising.
 */
import * as tf from "@tensorflow/tfjs";
import type { Episode } from "../rollout/rollout.ts";
import { assert } from "../util/assert.ts";
import type { SequenceBatch } from "./logprobs.ts";

/** Token sequences with a training mask: rollouts, or reference transcripts for the warm start. */
export type MaskedSequence = Pick<Episode, "tokens" | "sampled" | "logprobs">;

export type TrainBatch = {
  seq: SequenceBatch;
  /** Per sampled token, in `predictAt` order: sampler log-prob and the episode's advantage. [M] */
  oldLogprobs: Float32Array;
  advantages: Float32Array;
  tokenCount: number; // M
};

export function buildBatch(episodes: readonly MaskedSequence[], advantages: ArrayLike<number>, padId: number): TrainBatch {
  assert(episodes.length > 0 && episodes.length === advantages.length, `buildBatch: ${episodes.length} episodes, ${advantages.length} advantages`);
  const t = Math.max(...episodes.map((e) => e.tokens.length));
  const n = episodes.length;
  const ids = new Int32Array(n * t).fill(padId);
  const positions = new Int32Array(n * t);
  const keyMask = new Float32Array(n * t);
  const predictAt: number[] = [];
  const targets: number[] = [];
  const oldLogprobs: number[] = [];
  const adv: number[] = [];
  episodes.forEach((e, row) => {
    const offset = t - e.tokens.length; // left padding
    for (let i = 0; i < e.tokens.length; i++) {
      const flat = row * t + offset + i;
      ids[flat] = e.tokens[i];
      positions[flat] = i;
      keyMask[flat] = 1;
      // the first token has no predecessor to predict it; sampled tokens never come first
      if (e.sampled[i] && i > 0) {
        predictAt.push(flat - 1);
        targets.push(e.tokens[i]);
        oldLogprobs.push(e.logprobs[i]);
        adv.push(advantages[row]);
      }
    }
  });
  return {
    seq: {
      ids: tf.tensor2d(ids, [n, t], "int32"),
      positions: tf.tensor2d(positions, [n, t], "int32"),
      keyMask: tf.tensor2d(keyMask, [n, t], "float32"),
      predictAt: tf.tensor1d(predictAt, "int32"),
      targets: tf.tensor1d(targets, "int32"),
    },
    oldLogprobs: Float32Array.from(oldLogprobs),
    advantages: Float32Array.from(adv),
    tokenCount: predictAt.length,
  };
}

export function disposeBatch(batch: TrainBatch): void {
  tf.dispose(Object.values(batch.seq));
}

/** Splits `items` into consecutive slices of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
