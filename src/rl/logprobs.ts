/**
 * Log-probabilities of the sampled tokens under the policy, for the loss. Only positions that
 * predict a sampled token go through the LM head, in row chunks, and the head + log-softmax +
 * pick is one custom-gradient op that keeps its input, the logsumexps and, up to
 * `KEEP_PROBS_BYTES`, the softmax; past that it recomputes the logits in the backward pass, block
 * by block of the vocabulary, and at no time is more than [chunkRows, V] of logits alive, never
 * [N, T, V], even under the gradient tape.
 *   lp_i = z_i[y_i] − logsumexp(z_i),  z_i = (h_i · W) / τ,   W = lm_head, C → V
 *   ∂lp_i/∂h_i = (W[:, y_i] − W · softmax(z_i)) / τ,   ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − softmax(z_i)) / τ
 * Entropy H_i = −Σ p log p comes out of the same pass as a second column (no gradient).
 * A `SharedPrefixBatch` (the episodes of one group continue the same prompt) runs the prompt
 * once, keeps its keys and values (differentiable) and runs each continuation against them.
 */
import * as tf from "@tensorflow/tfjs";
import { applyWeight, hasFastTransposes, isTrainable, swapLast, weightDims, type Weight } from "../model/matmul.ts";
import type { TokenBatch } from "../model/inputs.ts";
import { disposeCache, emptyCache } from "../model/kv-cache.ts";
import { forward, type Adapters } from "../model/qwen.ts";
import { entropyRows, logSumExpRows, softmaxProbs } from "../model/softmax-kernels.ts";
import type { QwenModel } from "../model/weights.ts";
import { assert } from "../util/assert.ts";

/** Token ids and which positions were sampled; built by the rollout, where the truth is known. */
export type SequenceBatch = {
  ids: tf.Tensor2D; // [N, T] int32, left-padded
  positions: Int32Array; // [N, T] row-major, host memory (only RoPE reads it)
  keyMask: tf.Tensor2D; // [N, T] float32, 1 = real token
  /** Flat index n·T + t of each position whose logits predict a sampled token. [M] int32 */
  predictAt: tf.Tensor1D;
  /** The sampled token each of those positions predicts. [M] int32 */
  targets: tf.Tensor1D;
};

/**
 * Sequences that all begin with the same `prefix` tokens (positions 0..P−1, [1, P]). Each part
 * holds continuations: `ids` [n, T] from position P (`positions` start at P), `keyMask` over the
 * prefix and the part's own tokens ([n, P + T]), `predictAt` indexing the part's own [n, T] grid.
 */
export type SharedPrefixBatch = { prefix: TokenBatch; parts: SequenceBatch[] };

/**
 * `checkpoint`: recompute decoder layers in the backward pass (`ForwardInput.checkpoint`).
 * `vocabBlock`: vocabulary entries per block of the LM-head backward (default `VOCAB_BLOCK`).
 * `keepProbsBytes`: the most softmax the forward keeps for the backward (default `KEEP_PROBS_BYTES`).
 */
export type LogprobOptions = { temperature: number; chunkRows: number; adapters?: Adapters; checkpoint?: boolean; vocabBlock?: number; keepProbsBytes?: number };

/** 16,384 outputs of a 896-wide head are 58 MB per copy. */
export const VOCAB_BLOCK = 16384;

/**
 * The forward pass keeps the softmax of the sampled positions for the backward pass when it takes
 * at most this much ([M, V] float32): 512 positions of a 151,936 vocabulary are 311 MB and save a
 * third of the head's products (the backward otherwise recomputes the logits).
 */
export const KEEP_PROBS_BYTES = 320 * 2 ** 20;

/** [start, size] of each run of `chunk` rows among `rows`. */
function rowChunks(rows: number, chunk: number): [number, number][] {
  return Array.from({ length: Math.ceil(rows / chunk) }, (_, c) => [c * chunk, Math.min(chunk, rows - c * chunk)]);
}

/** The head's weight vectors of the given output ids, [m, C]. */
function outputRows(head: Weight, ids: tf.Tensor1D): tf.Tensor2D {
  return (head.layout === "out-in" ? tf.gather(head.t, ids) : swapLast(tf.gather(head.t, ids, 1))) as tf.Tensor2D;
}

/**
 * h: [m, C] → [m, 3] (log-prob of target, entropy, logsumexp) for one chunk, and its softmax [m, V]
 * when `keepProbs` (for the backward pass, which otherwise recomputes it); no tape needed inside.
 */
function chunkStats(h: tf.Tensor2D, targets: tf.Tensor1D, head: Weight, invTemp: number, keepProbs: boolean) {
  return tf.tidy(() => {
    const y = applyWeight(h, head); // [m, V]; z = y / τ
    const lse = logSumExpRows(y, invTemp); // [m]
    const picked = h.mul(outputRows(head, targets)).sum(1).mul(invTemp); // [m] = z[y]
    const stats = tf.stack([picked.sub(lse), entropyRows(y, lse, invTemp), lse], 1) as tf.Tensor2D;
    return { stats, probs: keepProbs ? softmaxProbs(y, lse, invTemp) : undefined };
  });
}

/**
 * The head's outputs [v0, v0 + n) as rows [n, C] and as columns [C, n]: transient copies, each
 * used only as a left operand (XNNPACK packs — copies — a matmul's right operand).
 */
function headBlock(head: Weight, v0: number, n: number): { rows: tf.Tensor2D; cols?: tf.Tensor2D } {
  return tf.tidy(() => {
    if (head.layout === "out-in") {
      const rows = head.t.slice([v0, 0], [n, -1]) as tf.Tensor2D;
      return { rows, cols: hasFastTransposes() ? undefined : (rows.transpose() as tf.Tensor2D) };
    }
    const cols = head.t.slice([0, v0], [-1, n]) as tf.Tensor2D;
    return { rows: cols.transpose() as tf.Tensor2D, cols };
  });
}

type GradOptions = { invTemp: number; chunkRows: number; vocabBlock: number; withHead: boolean };

/**
 * ∂(Σ dy_i lp_i)/∂h, and ∂/∂W in the head's layout when `withHead` (a full fine-tune), from the
 * forward's logsumexp. The vocabulary is walked in blocks and the rows in chunks, so no more than
 * a [chunkRows, vocabBlock] slice of probabilities and one block of the head (two copies) are
 * alive: for a 151k vocabulary, ≈ 120 MB instead of a 545 MB transposed head.
 */
function headGrad(h: tf.Tensor2D, lse: tf.Tensor1D, targets: tf.Tensor1D, dy: tf.Tensor1D, head: Weight, o: GradOptions, probs?: tf.Tensor2D[]) {
  const vocab = weightDims(head).outDim;
  const chunks = rowChunks(h.shape[0], o.chunkRows);
  const scale = tf.tidy(() => dy.mul(o.invTemp).reshape([-1, 1])); // [M, 1]
  const expected = chunks.map(([, m]) => tf.zeros([m, h.shape[1]])); // Σ_v p_v · W[v]
  const dW: tf.Tensor[] = [];
  for (let v0 = 0; v0 < vocab; v0 += o.vocabBlock) {
    const n = Math.min(o.vocabBlock, vocab - v0);
    const block = headBlock(head, v0, n);
    let dWBlock: tf.Tensor | undefined;
    chunks.forEach(([s, m], c) => {
      const next = tf.tidy(() => {
        const hs = h.slice([s, 0], [m, -1]);
        const isFast = block.cols === undefined; // native products: no transposed copies
        // softmax over the whole vocabulary: kept by the forward pass, or recomputed (the same bits:
        // each logit is the same product, its sum over C in the same order)
        const p = probs
          ? probs[c].slice([0, v0], [m, n])
          : softmaxProbs((isFast ? tf.matMul(hs, block.rows, false, true) : swapLast(tf.matMul(block.rows, swapLast(hs)))) as tf.Tensor2D, lse.slice([s], [m]), o.invTemp);
        const e = expected[c].add(isFast ? tf.matMul(p, block.rows) : swapLast(tf.matMul(block.cols!, swapLast(p)))); // [m, C]
        if (!o.withHead) return { e };
        // ∂lp_i/∂W = h_i ⊗ (onehot(y_i) − p_i) / τ; targets outside the block one-hot to zeros
        const dz = tf.oneHot(targets.slice([s], [m]).sub(tf.scalar(v0, "int32")), n).sub(p).mul(scale.slice([s, 0], [m, 1]));
        const g = head.layout === "in-out" ? tf.matMul(swapLast(hs), dz) : isFast ? tf.matMul(dz, hs, true, false) : tf.matMul(swapLast(dz), hs);
        return { e, g: dWBlock ? dWBlock.add(g) : g };
      });
      expected[c].dispose();
      expected[c] = next.e;
      if (next.g) {
        dWBlock?.dispose();
        dWBlock = next.g;
      }
    });
    tf.dispose([block.rows, ...(block.cols ? [block.cols] : [])]);
    if (dWBlock) dW.push(dWBlock);
  }
  const result = tf.tidy(() => {
    const dh = outputRows(head, targets).sub(tf.concat(expected)).mul(scale) as tf.Tensor2D;
    return o.withHead ? [dh, tf.concat(dW, head.layout === "in-out" ? 1 : 0) as tf.Tensor2D] : [dh];
  });
  tf.dispose([scale, ...expected, ...dW]);
  return result;
}

/**
 * Fused, chunked LM head → [M, 2] = (log-prob, entropy). The gradient flows to `hidden`, and to
 * the head too when it is a trainable variable (full fine-tune); entropy has no gradient.
 */
function headLogprobs(hidden: tf.Tensor2D, targets: tf.Tensor1D, model: QwenModel, opts: LogprobOptions): tf.Tensor2D {
  const head = model.weights.lmHead;
  const withHead = isTrainable(head.t);
  const invTemp = 1 / opts.temperature;
  const chunks = rowChunks(hidden.shape[0], opts.chunkRows);
  const keepProbs = hidden.shape[0] * weightDims(head).outDim * 4 <= (opts.keepProbsBytes ?? KEEP_PROBS_BYTES);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, save] = [args[0], args[args.length - 1]] as [tf.Tensor2D, tf.GradSaveFunc];
    const parts = chunks.map(([s, m]) => chunkStats(h.slice([s, 0], [m, -1]), targets.slice([s], [m]), head, invTemp, keepProbs));
    const stats = tf.concat(parts.map((p) => p.stats));
    const lse = stats.slice([0, 2], [-1, 1]).reshape([-1]);
    const probs = keepProbs ? parts.map((p) => p.probs!) : [];
    save([h, lse, targets, ...probs]); // targets too: the caller's may be gone by the backward pass
    const gradFunc = (dy: tf.Tensor, [sh, slse, stargets, ...sprobs]: tf.Tensor[]) => {
      const dLogprob = dy.slice([0, 0], [-1, 1]).reshape([-1]) as tf.Tensor1D; // column 1 (entropy) has no gradient
      const o = { invTemp, chunkRows: opts.chunkRows, vocabBlock: opts.vocabBlock ?? VOCAB_BLOCK, withHead };
      return headGrad(sh as tf.Tensor2D, slse as tf.Tensor1D, stargets as tf.Tensor1D, dLogprob, head, o, keepProbs ? (sprobs as tf.Tensor2D[]) : undefined);
    };
    return { value: stats.slice([0, 0], [-1, 2]), gradFunc };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor2D;
  return withHead ? op(hidden, head.t) : op(hidden);
}

/** Hidden states [M, C] of the positions that predict sampled tokens, in the batch's order. */
function predictingRows(model: QwenModel, batch: SequenceBatch | SharedPrefixBatch, opts: LogprobOptions): tf.Tensor2D {
  const c = model.config.hiddenSize;
  const pick = (hidden: tf.Tensor, at: tf.Tensor1D) => tf.gather(hidden.reshape([-1, c]), at) as tf.Tensor2D;
  if (!("parts" in batch)) return pick(forward(model, { ...batch, adapters: opts.adapters, checkpoint: opts.checkpoint }).hidden, batch.predictAt);
  assert(!opts.checkpoint, "sampledLogprobs: a shared prefix is not run with gradient checkpointing");
  const prefix = forward(model, { ...batch.prefix, cache: emptyCache(), adapters: opts.adapters });
  const rows = batch.parts.map((part) => {
    const n = part.ids.shape[0];
    const cache = n === 1 ? prefix.cache! : { layers: prefix.cache!.layers.map((l) => ({ keys: l.keys.tile([n, 1, 1, 1]) as tf.Tensor4D, values: l.values.tile([n, 1, 1, 1]) as tf.Tensor4D })) };
    const out = forward(model, { ...part, cache, adapters: opts.adapters });
    disposeCache(out.cache!); // the prefix's keys and values are still held by the tape where it needs them
    if (cache !== prefix.cache) disposeCache(cache);
    return pick(out.hidden, part.predictAt);
  });
  disposeCache(prefix.cache!);
  return tf.concat(rows) as tf.Tensor2D;
}

/**
 * Log-probs [M] and entropies [M] of the sampled tokens, in the batch's order (part by part for a
 * shared prefix). Call inside `tf.variableGrads` for the loss; the caller owns (and disposes)
 * both results.
 */
export function sampledLogprobs(model: QwenModel, batch: SequenceBatch | SharedPrefixBatch, opts: LogprobOptions): { logprobs: tf.Tensor1D; entropy: tf.Tensor1D } {
  assert(opts.temperature > 0, `sampledLogprobs: temperature must be > 0, got ${opts.temperature}`);
  return tf.tidy(() => {
    const targets = "parts" in batch ? tf.concat(batch.parts.map((p) => p.targets)) as tf.Tensor1D : batch.targets;
    const stats = headLogprobs(predictingRows(model, batch, opts), targets, model, opts); // [M, 2]
    const [logprobs, entropy] = tf.unstack(stats, 1) as [tf.Tensor1D, tf.Tensor1D];
    return { logprobs, entropy }; // entropy carries no gradient: gradFunc reads dy[:, 0] only
  });
}
