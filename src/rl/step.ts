/**
 * One GRPO step: rollouts → rewards → group advantages → clipped policy loss → Adam on LoRA.
 * Differences from the paper (arXiv 2507.08270, which builds on GRPO): the loss is a token-level
 * mean over all sampled tokens of the step (DAPO-style) instead of a per-episode mean; the KL
 * term is the k3 estimator against the base model with adapters switched off; old log-probs are
 * the sampler's own, so the first of `updatesPerStep` updates is exactly on-policy.
 */
import type { RunConfig } from "../config.ts";
import type { Lora } from "../lora/lora.ts";
import { drawDropout } from "../lora/lora.ts";
import { scoreEpisode, type RewardResult, type ScoreOptions } from "../reward/reward.ts";
import type { Episode, Policy, RolloutOptions } from "../rollout/rollout.ts";
import type { Scenario } from "../scenario/schema.ts";
import { seededRng } from "../util/rng.ts";
import type { AdamState } from "./adam.ts";
import { debiasByBehaviour, groupAdvantages } from "./advantage.ts";
import { IN_PROCESS, type Pool } from "./pool.ts";
import { policyUpdate, type UpdateStats } from "./update.ts";

/** `scoreOptions` plugs in a custom refusal detector or reward components (README); `pool` shares the work between threads. */
export type TrainContext = { policy: Policy; lora: Lora; adam: AdamState; cfg: RunConfig; pool?: Pool; scoreOptions?: ScoreOptions };

export type StepResult = {
  episodes: Episode[];
  rewards: RewardResult[];
  advantages: Float32Array;
  update: UpdateStats;
  seconds: { generate: number; score: number; update: number };
};

const now = () => performance.now() / 1000;

/** The rollout slice of the run config; `temperature` overrides the sampling temperature (eval). */
export function rolloutOptions(r: RunConfig["rollout"], temperature = r.temperature): RolloutOptions {
  return { sampling: { temperature, topK: r.topK, topP: r.topP }, maxNewTokens: r.maxNewTokens, maxTurns: r.maxTurns, pYes: r.pYes, systemPrompt: r.systemPrompt };
}

export async function trainStep(ctx: TrainContext, scenarios: readonly Scenario[], step: number): Promise<StepResult> {
  const { cfg, policy, lora } = ctx;
  const pool = ctx.pool ?? IN_PROCESS;
  const t0 = now();
  const jobs = scenarios.flatMap((scenario, i) =>            // G episodes per scenario, contiguous
    Array.from({ length: cfg.groupSize }, (_, g) => ({ scenario, rng: seededRng(cfg.seed, step, i, g) })));
  const episodes = await pool.runEpisodes(policy, jobs, rolloutOptions(cfg.rollout), lora);
  const t1 = now();
  const rewards = episodes.map((e, n) => scoreEpisode(scenarios[Math.floor(n / cfg.groupSize)], e.record, cfg.reward, ctx.scoreOptions));
  const grouped = groupAdvantages(Float32Array.from(rewards, (r) => r.total), cfg.groupSize, cfg.loss.scaleByStd);
  const advantages = cfg.loss.debiasBehaviour ? debiasByBehaviour(grouped, rewards.map((r) => r.behaviour)) : grouped;
  const t2 = now();
  const update = await policyUpdate({
    model: policy.model,
    trainable: { adapters: lora.adapters, variables: lora.variables, spec: { kind: "lora", config: lora.config }, dropout: drawDropout(lora, seededRng(cfg.seed, step, 0x10ad)) },
    adam: ctx.adam, optim: cfg.optim, loss: cfg.loss, temperature: cfg.rollout.temperature, padId: policy.tokenizer.padTokenId, pool,
  }, episodes, advantages);
  return { episodes, rewards, advantages, update, seconds: { generate: t1 - t0, score: t2 - t1, update: now() - t2 } };
}
