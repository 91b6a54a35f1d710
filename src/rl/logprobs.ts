/**
 * Log-probabilities of the sampled tokens under the policy, for the loss. Only positions that
 * predict a sampled token go through the LM head, in row chunks, and the head + log-softmax +
 * pick is one custom-gradient op that recomputes its logits in the backward pass: at no time
 * is more than [chunkRows, V] of logits alive, never [N, T, V], even under the gradient tape.
 *   lp_i = z_i[y_i] − logsumexp(z_i),  z_i = (h_i · W) / τ,   W = lm_head [C, V]
 *   ∂lp_i/∂h_i = (W[:, y_i] − W · softmax(z_i)) / τ,   ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − softmax(z_i)) / τ
 * Entropy H_i = −Σ p log p comes out of the same pass as a second column (no gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { isTrainable, swapLast } from "../model/matmul.ts";
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

export type LogprobOptions = { temperature: number; chunkRows: number; adapters?: Adapters };

/** h: [m, C] → [m, 2] (log-prob of target, entropy) for one chunk; no tape needed inside. */
function chunkStats(h: tf.Tensor2D, targets: tf.Tensor1D, headT: tf.Tensor2D, invTemp: number) {
  return tf.tidy(() => {
    const z = tf.matMul(h, headT).mul(invTemp); // [m, V]
    const lse = tf.logSumExp(z, 1, true); // [m, 1]
    const logp = z.sub(lse);
    const picked = h.mul(swapLast(tf.gather(headT, targets, 1))).sum(1).mul(invTemp); // [m] = z[y]
    const entropy = logp.exp().mul(logp).sum(1).neg();
    return tf.stack([picked.sub(lse.reshape([-1])), entropy], 1) as tf.Tensor2D;
  });
}

/** ∂(Σ dy_i lp_i)/∂h for one chunk, and ∂/∂W when `withHead` (a full fine-tune). */
function chunkGrad(h: tf.Tensor2D, targets: tf.Tensor1D, dy: tf.Tensor1D, headT: tf.Tensor2D, invTemp: number, withHead: boolean) {
  return tf.tidy(() => {
    const p = tf.softmax(tf.matMul(h, headT).mul(invTemp), 1); // [m, V]
    // [m, C] = (W · pᵀ)ᵀ with W as the left operand: never transposed, and XNNPACK packs (copies)
    // only a matmul's right operand — for a 151k vocabulary that saves 2 × 545 MB per chunk
    const expected = swapLast(tf.matMul(headT, swapLast(p)));
    const targetCols = swapLast(tf.gather(headT, targets, 1)); // [m, C]
    const scale = dy.reshape([-1, 1]).mul(invTemp);
    const dh = targetCols.sub(expected).mul(scale) as tf.Tensor2D;
    if (!withHead) return [dh];
    // ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − p_i) / τ
    const dz = tf.oneHot(targets, headT.shape[1]).sub(p).mul(scale); // [m, V]
    return [dh, tf.matMul(swapLast(h), dz) as tf.Tensor2D]; // [C, V]
  });
}

/**
 * Fused, chunked LM head → [M, 2] = (log-prob, entropy). The gradient flows to `hidden`, and to
 * the head too when it is a trainable variable (full fine-tune); entropy has no gradient.
 */
function headLogprobs(hidden: tf.Tensor2D, targets: tf.Tensor1D, model: QwenModel, opts: LogprobOptions): tf.Tensor2D {
  const headT = model.weights.lmHeadT;
  const withHead = isTrainable(headT);
  const invTemp = 1 / opts.temperature;
  const rows = hidden.shape[0];
  const starts = Array.from({ length: Math.ceil(rows / opts.chunkRows) }, (_, c) => c * opts.chunkRows);
  const size = (start: number) => Math.min(opts.chunkRows, rows - start);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, w, save] = (withHead ? args : [args[0], headT, args[1]]) as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([h, w]);
    const value = tf.concat(starts.map((s) => chunkStats(h.slice([s, 0], [size(s), -1]), targets.slice([s], [size(s)]), w, invTemp)));
    const gradFunc = (dy: tf.Tensor, [sh, sw]: tf.Tensor[]) => {
      const parts = starts.map((s) => {
        const dLogprob = dy.slice([s, 0], [size(s), 1]).reshape([-1]) as tf.Tensor1D; // column 1 (entropy) has no gradient
        return chunkGrad((sh as tf.Tensor2D).slice([s, 0], [size(s), -1]), targets.slice([s], [size(s)]), dLogprob, sw as tf.Tensor2D, invTemp, withHead);
      });
      const dh = tf.concat(parts.map((p) => p[0]));
      return withHead ? [dh, tf.addN(parts.map((p) => p[1]))] : [dh];
    };
    return { value, gradFunc };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D;
  return withHead ? op(hidden, headT) : op(hidden);
}

/**
 * Log-probs [M] and entropies [M] of the sampled tokens. Call inside `tf.variableGrads` for the
 * loss; the caller owns (and disposes) both results.
 */
export function sampledLogprobs(model: QwenModel, batch: SequenceBatch, opts: LogprobOptions): { logprobs: tf.Tensor1D; entropy: tf.Tensor1D } {
  assert(opts.temperature > 0, `sampledLogprobs: temperature must be > 0, got ${opts.temperature}`);
  return tf.tidy(() => {
    const { hidden } = forward(model, { ...batch, adapters: opts.adapters });
    const c = hidden.shape[2];
    const rows = tf.gather(hidden.reshape([-1, c]), batch.predictAt) as tf.Tensor2D; // [M, C]
    const stats = headLogprobs(rows, batch.targets, model, opts); // [M, 2]
    const [logprobs, entropy] = tf.unstack(stats, 1) as [tf.Tensor1D, tf.Tensor1D];
    return { logprobs, entropy }; // entropy carries no gradient: gradFunc reads dy[:, 0] only
  });
}
