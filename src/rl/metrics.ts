/**
 * One `metrics.jsonl` line per GRPO step (every field is documented in the README's metrics
 * table) and the sample-episode records written every K steps. Plain numbers only.
 */
import type { Scenario } from "../scenario/schema.ts";
import { meanStd, zeroSpreadFraction } from "./advantage.ts";
import type { StepResult } from "./step.ts";

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function stepMetrics(step: number, scenarios: readonly Scenario[], r: StepResult, extra: { lr: number; liveTensors: number; groupSize: number }) {
  const totals = Float32Array.from(r.rewards, (x) => x.total);
  const { mean, std } = meanStd(totals);
  const partNames = Object.keys(r.rewards[0]?.parts ?? {});
  const parts = Object.fromEntries(partNames.map((p) => [p, round(meanStd(r.rewards.map((x) => x.parts[p])).mean)]));
  const labelOf = (n: number) => scenarios[Math.floor(n / extra.groupSize)].user;
  const decision: Record<string, number | null> = {};
  for (const label of ["benign", "malicious", "sensitive"]) {
    const mine = r.rewards.filter((_, n) => labelOf(n) === label).map((x) => x.parts.decision);
    decision[label] = mine.length ? round(meanStd(mine).mean) : null;
  }
  const sampledTokens = r.episodes.reduce((a, e) => a + e.sampled.reduce((s, v) => s + v, 0), 0);
  return {
    step,
    reward_mean: round(mean),
    reward_std: round(std),
    parts,
    decision_accuracy: decision,
    zero_spread_groups: round(zeroSpreadFraction(totals, extra.groupSize)),
    loss: round(r.update.loss),
    kl: round(r.update.kl),
    clip_fraction: round(r.update.clipFraction),
    entropy: round(r.update.entropy),
    grad_norm: round(r.update.gradNorm),
    lr: extra.lr,
    episodes: r.episodes.length,
    tokens_sampled: sampledTokens,
    tokens_total: r.episodes.reduce((a, e) => a + e.tokens.length, 0),
    finish_length: round(r.episodes.filter((e) => e.record.finish === "length").length / r.episodes.length),
    seconds: { generate: round(r.seconds.generate), score: round(r.seconds.score), update: round(r.seconds.update) },
    live_tensors: extra.liveTensors,
  };
}
export type StepMetrics = ReturnType<typeof stepMetrics>;

/** Sample episodes as JSON lines: what the policy wrote and how it was scored. */
export function sampleRecords(step: number, scenarios: readonly Scenario[], r: StepResult, groupSize: number) {
  return r.episodes.map((e, n) => ({
    step,
    scenario_id: e.scenarioId,
    user: scenarios[Math.floor(n / groupSize)].user,
    reward: round(r.rewards[n].total),
    advantage: round(r.advantages[n]),
    parts: r.rewards[n].parts,
    finish: e.record.finish,
    messages: e.record.messages,
  }));
}
