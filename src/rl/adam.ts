/**
 * Adam for the LoRA variables, with global gradient-norm clipping and a linear warm-up of the
 * learning rate. Our own (not tf.train.adam) so the schedule is explicit and the state — step,
 * first and second moments — can be saved and restored exactly for `--resume`.
 */
import * as tf from "@tensorflow/tfjs";
import { assert } from "../util/assert.ts";

export type AdamOptions = {
  lr: number; beta1: number; beta2: number; epsilon: number; maxGradNorm: number; warmupSteps: number;
  /** When set, the rate decays linearly after the warm-up to 10 % of `lr` at this step. */
  decaySteps?: number;
};

export type AdamState = { step: number; m: tf.Variable[]; v: tf.Variable[] };

export function createAdam(vars: readonly tf.Variable[]): AdamState {
  // tidy: a variable keeps its own reference to the zeros, and the tensor it was made from would
  // otherwise stay registered until the process ends (two per variable, per trainRun / warm start)
  const zeros = () => vars.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  return { step: 0, m: zeros(), v: zeros() };
}

export function disposeAdam(state: AdamState): void {
  tf.dispose([...state.m, ...state.v]);
}

/** Learning rate at optimiser step `step` (0-based): linear warm-up, then constant or a linear decay. */
export function learningRate(opts: AdamOptions, step: number): number {
  const warm = opts.warmupSteps > 0 ? Math.min(1, (step + 1) / opts.warmupSteps) : 1;
  if (opts.decaySteps === undefined || step < opts.warmupSteps) return opts.lr * warm;
  const progress = Math.min(1, (step - opts.warmupSteps) / Math.max(1, opts.decaySteps - opts.warmupSteps));
  return opts.lr * (1 - 0.9 * progress);
}

/**
 * One update of `vars` from `grads` (same order). Returns the gradient norm before clipping: the
 * step's one read back (async: the clip and the skip are decided on the host).
 * Does not dispose `grads`.
 */
export async function adamStep(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], state: AdamState, opts: AdamOptions): Promise<number> {
  assert(vars.length === grads.length && vars.length === state.m.length, "adamStep: vars, grads and state differ in length");
  const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => g.square().sum()))));
  const norm = (await normT.data())[0];
  normT.dispose();
  // clip the global norm; a non-finite norm would poison the moments, so skip that update
  if (!Number.isFinite(norm)) return norm;
  const clip = opts.maxGradNorm > 0 && norm > opts.maxGradNorm ? opts.maxGradNorm / norm : 1;
  const lr = learningRate(opts, state.step);
  state.step += 1;
  const c1 = 1 - opts.beta1 ** state.step;
  const c2 = 1 - opts.beta2 ** state.step;
  tf.tidy(() => {
    vars.forEach((x, i) => {
      const g = grads[i].mul(clip);
      state.m[i].assign(state.m[i].mul(opts.beta1).add(g.mul(1 - opts.beta1)));
      state.v[i].assign(state.v[i].mul(opts.beta2).add(g.square().mul(1 - opts.beta2)));
      const update = state.m[i].div(c1).div(state.v[i].div(c2).sqrt().add(opts.epsilon));
      x.assign(x.sub(update.mul(lr)));
    });
  });
  return norm;
}
