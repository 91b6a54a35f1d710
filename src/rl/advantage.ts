/**
 * GRPO group-relative advantages: each episode's reward minus its group's mean, divided by the
 * group's standard deviation (`scaleByStd`, the default) or not (Dr. GRPO, Liu et al. 2025: the
 * division turns a group's tiny reward noise into unit-size advantages). Episodes of one scenario
 * are contiguous groups of G.
 */
import { assert } from "../util/assert.ts";

export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(variance / values.length) };
}

/** rewards: [N] laid out as N/G groups of G → advantages [N]. */
export function groupAdvantages(rewards: Float32Array, groupSize: number, scaleByStd = true): Float32Array {
  assert(groupSize >= 1 && rewards.length % groupSize === 0, `rewards (${rewards.length}) not a multiple of G=${groupSize}`);
  const out = new Float32Array(rewards.length);
  for (let g = 0; g < rewards.length; g += groupSize) {
    const group = rewards.subarray(g, g + groupSize);
    const { mean, std } = meanStd(group);
    // +1e-4: an all-equal group has std 0 and must give advantage 0, not NaN
    for (let i = 0; i < groupSize; i++) out[g + i] = scaleByStd ? (group[i] - mean) / (std + 1e-4) : group[i] - mean;
  }
  return out;
}

/** Fraction of groups whose rewards are all equal (they teach nothing this step). */
export function zeroSpreadFraction(rewards: Float32Array, groupSize: number): number {
  let flat = 0;
  for (let g = 0; g < rewards.length; g += groupSize) if (meanStd(rewards.subarray(g, g + groupSize)).std < 1e-6) flat++;
  return flat / (rewards.length / groupSize);
}

/**
 * Removes from each episode's advantage the mean advantage of every episode of the step with the
 * same behaviour (execute / verify / refuse / …): what is left says "this behaviour is better for
 * this request than it is on average". A policy that ignores the request is pushed towards the
 * behaviour with the best reward averaged over the step's label mix (measured on the smoke model:
 * "verify", which then takes over by step 10); after debiasing, the summed push on each behaviour
 * is exactly zero and only request-dependent differences move the policy.
 */
export function debiasByBehaviour(advantages: Float32Array, behaviours: readonly string[]): Float32Array {
  assert(advantages.length === behaviours.length, `debiasByBehaviour: ${advantages.length} advantages, ${behaviours.length} behaviours`);
  const sums = new Map<string, { sum: number; n: number }>();
  behaviours.forEach((b, i) => {
    const e = sums.get(b) ?? { sum: 0, n: 0 };
    e.sum += advantages[i];
    e.n += 1;
    sums.set(b, e);
  });
  return advantages.map((a, i) => {
    const { sum, n } = sums.get(behaviours[i])!;
    return a - sum / n;
  });
}
