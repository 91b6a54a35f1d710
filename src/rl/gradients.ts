/**
 * The gradient work of one update phase on one thread: a `GradientTask` (plain data, so it can
 * cross to a worker thread: pool.ts) names some micro-batches of the phase and the objective;
 * `gradientShard` builds their batches once (and the reference log-probs, adapters off: one read
 * back for the shard), then each `run` hands back every micro-batch's gradient and scalars (one
 * read back per micro-batch), in micro-batch order. Reads are async: a GPU backend has no cheap
 * synchronous one.
 * Summing them in that global order is the caller's job, so a phase gives bit-identical sums
 * whether its micro-batches ran on one thread or on several.
 * Objectives: "policy" — the clipped policy loss of loss.ts (+ KL to the reference); "nll" —
 * the warm start's mean negative log-likelihood of the sampled tokens. Every term of a micro-batch
 * is its sum divided by the phase's token count `tokens`, so the micro-batch terms add up to means.
 */
import * as tf from "@tensorflow/tfjs";
import { applyDropout, type DropoutDraw } from "../lora/lora.ts";
import type { Adapters } from "../model/qwen.ts";
import type { QwenModel } from "../model/weights.ts";
import { assert } from "../util/assert.ts";
import { buildBatch, disposeBatch, type MaskedSequence, type TrainBatch } from "./batch.ts";
import { sampledLogprobs } from "./logprobs.ts";
import { policyLoss, type LossOptions } from "./loss.ts";

export type MicroBatch = { episodes: MaskedSequence[]; advantages: number[] };

export type GradientTask = {
  objective: "policy" | "nll";
  microBatches: MicroBatch[];
  /** Sampled tokens in the whole phase (every thread's micro-batches). */
  tokens: number;
  /** Episodes in the whole phase, for `aggregate: "sequence"`. */
  episodeCount: number;
  temperature: number;
  padId: number;
  chunkRows: number;
  sharePrefix?: boolean;
  checkpoint?: boolean;
  /** "policy" only. */
  loss?: LossOptions & { aggregate?: "token" | "sequence" };
  /** LoRA dropout of the training forward (lora.ts `drawDropout`). */
  dropout?: DropoutDraw;
};

/** One micro-batch's result: the gradient of each variable (in variable order) and its scalars. */
export type MicroBatchGrads = { grads: tf.Tensor[]; scalars: number[] };

export type GradientShard = {
  /** Gradients w.r.t. `variables` at their current values; `onResult` gets each micro-batch's in order (and owns its tensors). */
  run(onResult: (r: MicroBatchGrads) => void): Promise<void>;
  dispose(): void;
};

/** Sampled tokens of `episodes`: the positions the loss sees (batch.ts `tokenCount`). */
export function sampledTokens(episodes: readonly MaskedSequence[]): number {
  return episodes.reduce((a, e) => a + e.sampled.reduce((s, x) => s + x, 0), 0);
}

/** Log-probs of each batch's sampled tokens at the model's current values (no tape), read back in one go. */
async function readLogprobs(model: QwenModel, batches: readonly TrainBatch[], lp: { temperature: number; chunkRows: number }): Promise<Float32Array[]> {
  const all = tf.tidy(() => tf.concat(batches.map((b) => sampledLogprobs(model, b.seq, lp).logprobs)));
  const values = (await all.data()) as Float32Array;
  all.dispose();
  let start = 0;
  return batches.map((b) => values.slice(start, (start += b.tokenCount)));
}

/** The task's micro-batches on `model` (+ `adapters`), differentiated w.r.t. `variables`. */
export async function gradientShard(model: QwenModel, target: { adapters?: Adapters; variables: readonly tf.Variable[] }, task: GradientTask): Promise<GradientShard> {
  const batches: TrainBatch[] = [];
  const lp = { temperature: task.temperature, chunkRows: task.chunkRows };
  const klCoef = task.objective === "policy" ? task.loss?.klCoef ?? 0 : 0;
  let refs: Float32Array[] | undefined;
  try {
    for (const mb of task.microBatches) batches.push(buildBatch(mb.episodes, mb.advantages, task.padId, { sharePrefix: task.sharePrefix }));
    if (klCoef > 0 && batches.length > 0) refs = await readLogprobs(model, batches, lp);
  } catch (error) {
    batches.forEach(disposeBatch);
    throw error;
  }
  const adapters = target.adapters && applyDropout(target.adapters, task.dropout);
  // per-sequence mean: each of the phase's N episodes weighs 1/N, spread over its own tokens
  const weights = task.loss?.aggregate === "sequence" ? batches.map((b) => b.episodeTokens.map((n) => 1 / (n * task.episodeCount))) : undefined;
  const lossOf = (b: TrainBatch, i: number): { loss: tf.Scalar; extra: tf.Scalar[] } => {
    const { logprobs, entropy } = sampledLogprobs(model, b.seq, { ...lp, adapters, checkpoint: task.checkpoint });
    if (task.objective === "nll") return { loss: logprobs.sum().neg().div(Math.max(task.tokens, 1)) as tf.Scalar, extra: [] };
    assert(task.loss !== undefined, "gradient task: the policy objective needs loss options");
    const out = policyLoss({
      logprobs, oldLogprobs: tf.tensor1d(b.oldLogprobs), advantages: tf.tensor1d(b.advantages),
      refLogprobs: refs ? tf.tensor1d(refs[i]) : undefined, weights: weights ? tf.tensor1d(weights[i]) : undefined,
    }, { ...task.loss, tokenCount: task.tokens });
    return { loss: out.loss, extra: [out.kl, out.clipFraction, entropy.sum().div(Math.max(task.tokens, 1))] };
  };
  return {
    async run(onResult) {
      for (const [i, batch] of batches.entries()) {
        let extra: tf.Scalar[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const out = lossOf(batch, i);
          extra = out.extra.map((t) => tf.keep(t));
          return out.loss;
        }, [...target.variables]);
        const stacked = tf.stack([value, ...extra]);
        tf.dispose([value, ...extra]);
        const scalars = Array.from(await stacked.data());
        stacked.dispose();
        onResult({ grads: target.variables.map((v) => grads[v.name]), scalars });
      }
    },
    dispose: () => batches.forEach(disposeBatch),
  };
}
