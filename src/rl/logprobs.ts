/**
 * Log-probabilities of the sampled tokens under the policy, for the loss. Only positions that
 * predict a sampled token go through the LM head, in row chunks, and the head + log-softmax +
 * pick is one custom-gradient op that recomputes its logits in the backward pass: at no time
 * is more than [chunkRows, V] of logits alive, never [N, T, V], even under the gradient tape.
 *   lp_i = z_i[y_i] − logsumexp(z_i),  z_i = (h_i · W) / τ,   W = lm_head, C → V
 *   ∂lp_i/∂h_i = (W[:, y_i] − W · softmax(z_i)) / τ,   ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − softmax(z_i)) / τ
 * Entropy H_i = −Σ p log p comes out of the same pass as a second column (no gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { applyWeight, isTrainable, swapLast, weightDims, type Weight } from "../model/matmul.ts";
import { forward, type Adapters } from "../model/qwen.ts";
import type { QwenModel } from "../model/weights.ts";
import { assert } from "../util/assert.ts";

/** Token ids and which positions were sampled; built by the rollout, where the truth is known. */
export type SequenceBatch = {
  ids: tf.Tensor2D; // [N, T] int32, left-padded
  positions: tf.Tensor2D; // [N, T] int32
  keyMask: tf.Tensor2D; // [N, T] float32, 1 = real token
  /** Flat index n·T + t of each position whose logits predict a sampled token. [M] int32 */
  predictAt: tf.Tensor1D;
  /** The sampled token each of those positions predicts. [M] int32 */
  targets: tf.Tensor1D;
};

/** `checkpoint`: recompute decoder layers in the backward pass (`ForwardInput.checkpoint`). */
export type LogprobOptions = { temperature: number; chunkRows: number; adapters?: Adapters; checkpoint?: boolean };

/** The head's weight vectors of the given output ids, [m, C]. */
function outputRows(head: Weight, ids: tf.Tensor1D): tf.Tensor2D {
  return (head.layout === "out-in" ? tf.gather(head.t, ids) : swapLast(tf.gather(head.t, ids, 1))) as tf.Tensor2D;
}

/** h: [m, C] → [m, 2] (log-prob of target, entropy) for one chunk; no tape needed inside. */
function chunkStats(h: tf.Tensor2D, targets: tf.Tensor1D, head: Weight, invTemp: number) {
  return tf.tidy(() => {
    const z = applyWeight(h, head).mul(invTemp); // [m, V]
    const lse = tf.logSumExp(z, 1, true); // [m, 1]
    const logp = z.sub(lse);
    const picked = h.mul(outputRows(head, targets)).sum(1).mul(invTemp); // [m] = z[y]
    const entropy = logp.exp().mul(logp).sum(1).neg();
    return tf.stack([picked.sub(lse.reshape([-1])), entropy], 1) as tf.Tensor2D;
  });
}

/**
 * ∂(Σ dy_i lp_i)/∂h for one chunk, and ∂/∂W (in the head's layout) when `withHead` (a full
 * fine-tune). `headCV` is the head as [C, V], used as a left operand: XNNPACK packs (copies) only a
 * matmul's right operand, which for a 151k vocabulary would be 545 MB per chunk.
 */
function chunkGrad(h: tf.Tensor2D, targets: tf.Tensor1D, dy: tf.Tensor1D, head: Weight, headCV: tf.Tensor2D, invTemp: number, withHead: boolean) {
  return tf.tidy(() => {
    const p = tf.softmax(applyWeight(h, head).mul(invTemp), 1); // [m, V]
    const expected = swapLast(tf.matMul(headCV, swapLast(p))); // [m, C] = (W · pᵀ)ᵀ
    const scale = dy.reshape([-1, 1]).mul(invTemp);
    const dh = outputRows(head, targets).sub(expected).mul(scale) as tf.Tensor2D;
    if (!withHead) return [dh];
    // ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − p_i) / τ
    const dz = tf.oneHot(targets, weightDims(head).outDim).sub(p).mul(scale); // [m, V]
    return [dh, (head.layout === "in-out" ? tf.matMul(swapLast(h), dz) : tf.matMul(swapLast(dz), h)) as tf.Tensor2D];
  });
}

/**
 * Fused, chunked LM head → [M, 2] = (log-prob, entropy). The gradient flows to `hidden`, and to
 * the head too when it is a trainable variable (full fine-tune); entropy has no gradient.
 */
function headLogprobs(hidden: tf.Tensor2D, targets: tf.Tensor1D, model: QwenModel, opts: LogprobOptions): tf.Tensor2D {
  const head = model.weights.lmHead;
  const withHead = isTrainable(head.t);
  const invTemp = 1 / opts.temperature;
  const rows = hidden.shape[0];
  const starts = Array.from({ length: Math.ceil(rows / opts.chunkRows) }, (_, c) => c * opts.chunkRows);
  const size = (start: number) => Math.min(opts.chunkRows, rows - start);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, save] = [args[0], args[args.length - 1]] as [tf.Tensor2D, tf.GradSaveFunc];
    save([h]);
    const value = tf.concat(starts.map((s) => chunkStats(h.slice([s, 0], [size(s), -1]), targets.slice([s], [size(s)]), head, invTemp)));
    const gradFunc = (dy: tf.Tensor, [sh]: tf.Tensor[]) => {
      const headCV = head.layout === "in-out" ? head.t : (head.t.transpose() as tf.Tensor2D); // one transient copy per backward
      const parts = starts.map((s) => {
        const dLogprob = dy.slice([s, 0], [size(s), 1]).reshape([-1]) as tf.Tensor1D; // column 1 (entropy) has no gradient
        return chunkGrad((sh as tf.Tensor2D).slice([s, 0], [size(s), -1]), targets.slice([s], [size(s)]), dLogprob, head, headCV, invTemp, withHead);
      });
      if (headCV !== head.t) headCV.dispose();
      const dh = tf.concat(parts.map((p) => p[0]));
      return withHead ? [dh, tf.addN(parts.map((p) => p[1]))] : [dh];
    };
    return { value, gradFunc };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D;
  return withHead ? op(hidden, head.t) : op(hidden);
}

/**
 * Log-probs [M] and entropies [M] of the sampled tokens. Call inside `tf.variableGrads` for the
 * loss; the caller owns (and disposes) both results.
 */
export function sampledLogprobs(model: QwenModel, batch: SequenceBatch, opts: LogprobOptions): { logprobs: tf.Tensor1D; entropy: tf.Tensor1D } {
  assert(opts.temperature > 0, `sampledLogprobs: temperature must be > 0, got ${opts.temperature}`);
  return tf.tidy(() => {
    const { hidden } = forward(model, { ...batch, adapters: opts.adapters, checkpoint: opts.checkpoint });
    const c = hidden.shape[2];
    const rows = tf.gather(hidden.reshape([-1, c]), batch.predictAt) as tf.Tensor2D; // [M, C]
    const stats = headLogprobs(rows, batch.targets, model, opts); // [M, 2]
    const [logprobs, entropy] = tf.unstack(stats, 1) as [tf.Tensor1D, tf.Tensor1D];
    return { logprobs, entropy }; // entropy carries no gradient: gradFunc reads dy[:, 0] only
  });
}
