/**
 * The update phase of a GRPO step: reference log-probs (adapters off, no tape), then
 * `updatesPerStep` Adam updates, each accumulating gradients over micro-batches of episodes so
 * activation memory is bounded by `microBatch`, not by the step's episode count (with
 * `sharePrefix`, a micro-batch's common prompt runs once: batch.ts). Only the LoRA
 * variables are differentiated; the base weights are constants.
 */
import * as tf from "@tensorflow/tfjs";
import type { Adapters } from "../model/qwen.ts";
import type { QwenModel } from "../model/weights.ts";
import { adamStep, type AdamOptions, type AdamState } from "./adam.ts";
import { buildBatch, chunked, disposeBatch, type MaskedSequence, type TrainBatch } from "./batch.ts";
import { sampledLogprobs } from "./logprobs.ts";
import { policyLoss, type LossOptions } from "./loss.ts";

export type Trainable = { adapters: Adapters; variables: tf.Variable[] };

export type UpdateContext = {
  model: QwenModel;
  trainable: Trainable;
  adam: AdamState;
  optim: AdamOptions;
  loss: LossOptions & { updatesPerStep: number; microBatch: number; chunkRows: number; checkpointLayers?: boolean; sharePrefix?: boolean; aggregate?: "token" | "sequence" };
  temperature: number;
  padId: number;
};

export type UpdateStats = { loss: number; kl: number; clipFraction: number; entropy: number; gradNorm: number; tokens: number };

/** Σ over micro-batches of the gradient of `lossOf(batch)`; returns the summed scalars too. */
export function accumulate(vars: readonly tf.Variable[], batches: TrainBatch[], lossOf: (b: TrainBatch, i: number) => { loss: tf.Scalar; extra: tf.Scalar[] }) {
  const sums: tf.Tensor[] = vars.map((v) => tf.zerosLike(v));
  const scalars: number[] = [];
  batches.forEach((batch, i) => {
    let extra: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = lossOf(batch, i);
      extra = out.extra.map((t) => tf.keep(t));
      return out.loss;
    }, [...vars]);
    [value, ...extra].forEach((t, k) => (scalars[k] = (scalars[k] ?? 0) + t.dataSync()[0]));
    vars.forEach((v, k) => {
      const next = sums[k].add(grads[v.name]);
      sums[k].dispose();
      sums[k] = next;
    });
    tf.dispose([value, ...extra, ...Object.values(grads)]);
  });
  return { grads: sums, scalars };
}

export function policyUpdate(ctx: UpdateContext, episodes: readonly MaskedSequence[], advantages: Float32Array): UpdateStats {
  const groups = chunked(episodes.map((_, i) => i), ctx.loss.microBatch);
  const batches = groups.map((idx) => buildBatch(idx.map((i) => episodes[i]), idx.map((i) => advantages[i]), ctx.padId, { sharePrefix: ctx.loss.sharePrefix }));
  const tokens = batches.reduce((a, b) => a + b.tokenCount, 0);
  const lpOptions = { temperature: ctx.temperature, chunkRows: ctx.loss.chunkRows };
  const refs = ctx.loss.klCoef > 0
    ? batches.map((b) => tf.tidy(() => sampledLogprobs(ctx.model, b.seq, lpOptions).logprobs.dataSync() as Float32Array))
    : undefined;
  // per-sequence mean: each of the step's episodes weighs 1/N, spread over its own tokens
  const weights = ctx.loss.aggregate === "sequence" ? batches.map((b) => b.episodeTokens.map((n) => 1 / (n * episodes.length))) : undefined;
  const stats: UpdateStats = { loss: 0, kl: 0, clipFraction: 0, entropy: 0, gradNorm: 0, tokens };
  try {
    for (let u = 0; u < ctx.loss.updatesPerStep; u++) {
      const { grads, scalars } = accumulate(ctx.trainable.variables, batches, (b, i) => {
        const { logprobs, entropy } = sampledLogprobs(ctx.model, b.seq, { ...lpOptions, adapters: ctx.trainable.adapters, checkpoint: ctx.loss.checkpointLayers });
        const out = policyLoss({
          logprobs, oldLogprobs: tf.tensor1d(b.oldLogprobs), advantages: tf.tensor1d(b.advantages),
          refLogprobs: refs ? tf.tensor1d(refs[i]) : undefined,
          weights: weights ? tf.tensor1d(weights[i]) : undefined,
        }, { ...ctx.loss, tokenCount: tokens });
        // each term is a per-micro-batch sum over the step's token count: they add up to step means
        return { loss: out.loss, extra: [out.kl, out.clipFraction, entropy.sum().div(Math.max(tokens, 1))] };
      });
      const gradNorm = adamStep(ctx.trainable.variables, grads, ctx.adam, ctx.optim);
      tf.dispose(grads);
      if (u === 0) Object.assign(stats, { loss: scalars[0], kl: scalars[1], entropy: scalars[3], gradNorm });
      stats.clipFraction = scalars[2]; // of the last update: the first is always ~0
    }
  } finally {
    batches.forEach(disposeBatch);
  }
  return stats;
}
