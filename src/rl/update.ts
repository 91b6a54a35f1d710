/**
 * The update phase of a GRPO step: reference log-probs (adapters off, no tape), then
 * `updatesPerStep` Adam updates, each accumulating gradients over micro-batches of episodes so
 * activation memory is bounded by `microBatch`, not by the step's episode count (with
 * `sharePrefix`, a micro-batch's common prompt runs once: batch.ts). Only the LoRA
 * variables are differentiated; the base weights are constants. The micro-batches may run on
 * several threads (pool.ts); their gradients are summed here, in micro-batch order.
 */
import * as tf from "@tensorflow/tfjs";
import type { Adapters } from "../model/qwen.ts";
import type { QwenModel } from "../model/weights.ts";
import { adamStep, type AdamOptions, type AdamState } from "./adam.ts";
import { chunked, type MaskedSequence } from "./batch.ts";
import { sampledTokens, type GradientTask } from "./gradients.ts";
import type { LossOptions } from "./loss.ts";
import type { LocalTarget, Pool, TargetSpec } from "./pool.ts";

export type Trainable = { adapters: Adapters; variables: tf.Variable[]; spec: TargetSpec; dropout?: GradientTask["dropout"] };

export type UpdateContext = {
  model: QwenModel;
  trainable: Trainable;
  adam: AdamState;
  optim: AdamOptions;
  loss: LossOptions & { updatesPerStep: number; microBatch: number; chunkRows: number; checkpointLayers?: boolean; sharePrefix?: boolean; aggregate?: "token" | "sequence" };
  temperature: number;
  padId: number;
  pool: Pool;
};

export type UpdateStats = { loss: number; kl: number; clipFraction: number; entropy: number; gradNorm: number; tokens: number };

/** One gradient pass of a phase: Σ over micro-batches (in order) of each variable's gradient and of each scalar. */
export async function accumulate(variables: readonly tf.Variable[], run: (onResult: (r: { grads: tf.Tensor[]; scalars: number[] }) => void) => Promise<void>) {
  const sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
  const scalars: number[] = [];
  await run(({ grads, scalars: s }) => {
    s.forEach((x, k) => (scalars[k] = (scalars[k] ?? 0) + x));
    grads.forEach((g, k) => {
      const next = sums[k].add(g);
      sums[k].dispose();
      sums[k] = next;
    });
    tf.dispose(grads);
  });
  return { grads: sums, scalars };
}

export async function policyUpdate(ctx: UpdateContext, episodes: readonly MaskedSequence[], advantages: Float32Array): Promise<UpdateStats> {
  const microBatches = chunked(episodes.map((_, i) => i), ctx.loss.microBatch).map((idx) => ({ episodes: idx.map((i) => episodes[i]), advantages: idx.map((i) => advantages[i]) }));
  const tokens = sampledTokens(episodes);
  const task: GradientTask = {
    objective: "policy", microBatches, tokens, episodeCount: episodes.length, temperature: ctx.temperature, padId: ctx.padId,
    chunkRows: ctx.loss.chunkRows, sharePrefix: ctx.loss.sharePrefix, checkpoint: ctx.loss.checkpointLayers, loss: ctx.loss, dropout: ctx.trainable.dropout,
  };
  const local: LocalTarget = { model: ctx.model, ...ctx.trainable };
  const phase = await ctx.pool.gradients(local, task); // builds the batches and reference log-probs
  const stats: UpdateStats = { loss: 0, kl: 0, clipFraction: 0, entropy: 0, gradNorm: 0, tokens };
  try {
    for (let u = 0; u < ctx.loss.updatesPerStep; u++) {
      // scalars: loss, KL, clip fraction, entropy — each a sum of micro-batch terms over the step's token count
      const { grads, scalars } = await accumulate(ctx.trainable.variables, phase.run);
      const gradNorm = await adamStep(ctx.trainable.variables, grads, ctx.adam, ctx.optim);
      tf.dispose(grads);
      if (u === 0) Object.assign(stats, { loss: scalars[0], kl: scalars[1], entropy: scalars[3], gradNorm });
      stats.clipFraction = scalars[2]; // of the last update: the first is always ~0
    }
  } finally {
    await phase.end();
  }
  return stats;
}
