/**
 * The policy loss, over sampled tokens only (prompt, tool and check tokens never reach it):
 *   ρ_t = exp(lp_t − lp_t^old)                             (lp^old: the sampler's log-probs)
 *   L = −(1/M) Σ_t min(ρ_t A_t, clip(ρ_t, 1−ε, 1+ε) A_t) + β (1/M) Σ_t KL_t
 *   KL_t = exp(lp_t^ref − lp_t) − (lp_t^ref − lp_t) − 1     (k3 estimator, ≥ 0; ref = adapters off)
 * A_t is the episode's group-normalised advantage. Default: token-level mean over all M sampled
 * tokens of the step (DAPO-style), so long episodes are not down-weighted per token. With
 * `weights` (loss.aggregate "sequence", GRPO's per-sequence mean) 1/M becomes w_t = 1/(N·n_i):
 * each of the N episodes counts once whatever its length n_i, so a short refusal weighs as much
 * as a four-turn verification. With one update per batch of rollouts ρ = 1 up to numerics and
 * the clip only matters from the second update on (`updatesPerStep`).
 */
import * as tf from "@tensorflow/tfjs";

export type LossInput = {
  logprobs: tf.Tensor1D; // [M], differentiable
  oldLogprobs: tf.Tensor1D; // [M]
  refLogprobs?: tf.Tensor1D; // [M]; absent when β = 0
  advantages: tf.Tensor1D; // [M], the episode's advantage repeated on each of its tokens
  weights?: tf.Tensor1D; // [M], each token's weight in the step's mean; default 1/M
};
export type LossOptions = {
  clipEpsilon: number;
  klCoef: number;
  /** M: sampled tokens in the whole step, when this call sees one micro-batch of them. */
  tokenCount?: number;
};

export type LossOutput = { loss: tf.Scalar; kl: tf.Scalar; clipFraction: tf.Scalar };

export function policyLoss(inp: LossInput, opts: LossOptions): LossOutput {
  // the wasm backend's sum over an empty tensor reads uninitialised memory: answer M = 0 directly
  if (inp.logprobs.shape[0] === 0) return { loss: tf.scalar(0), kl: tf.scalar(0), clipFraction: tf.scalar(0) };
  return tf.tidy(() => {
    const ratio = inp.logprobs.sub(inp.oldLogprobs).exp();
    const clipped = ratio.clipByValue(1 - opts.clipEpsilon, 1 + opts.clipEpsilon);
    const surrogate = tf.minimum(ratio.mul(inp.advantages), clipped.mul(inp.advantages));
    const isClipped = ratio.sub(clipped).abs().greater(0).cast("float32");
    const m = Math.max(opts.tokenCount ?? inp.logprobs.shape[0], 1);
    const mean = (x: tf.Tensor) => (inp.weights ? x.mul(inp.weights).sum() : x.sum().div(m));
    let kl: tf.Tensor = tf.scalar(0);
    if (inp.refLogprobs) {
      const d = inp.refLogprobs.sub(inp.logprobs);
      kl = mean(d.exp().sub(d).sub(1));
    }
    const loss = mean(surrogate).neg().add(kl.mul(opts.klCoef)) as tf.Scalar;
    return { loss, kl: kl as tf.Scalar, clipFraction: isClipped.sum().div(m) as tf.Scalar };
  });
}
