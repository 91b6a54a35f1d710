/**
 * scoreEpisode: the tri-modal reward of one transcript (SPEC §4). Pure and text-level.
 *   R_gen ∈ {0, 1}: finish "stop", every turn well-formed, ended by a final answer.
 *   R_ℓ = Π gates × (Σ wᵢ·cᵢ / Σ wᵢ) over the components cᵢ (built-in and custom).
 *   total = R_gen × R_ℓ ("product") or genWeight·R_gen + (1 − genWeight)·R_ℓ ("weighted-sum").
 * Every part is returned: r_gen, r_l and each component by name.
 */
import { assert, fail } from "../util/assert.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { Transcript } from "../sandbox/episode.ts";
import { analyzeTranscript, type Analysis, type Behaviour } from "./analyze.ts";
import { BUILTIN_PARTS } from "./checks.ts";
import { COMPONENT_NAMES, type RewardConfig } from "./config.ts";
import { ruleRefusalDetector, type RefusalDetector } from "./refusal.ts";

/** `behaviour`: what the agent did (analyze.ts), e.g. for behaviour-debiased advantages. */
export type RewardResult = { total: number; parts: Record<string, number>; behaviour: Behaviour };

export type RewardContext = { scenario: Scenario; transcript: Transcript; analysis: Analysis };

/** Plug-in point: a custom R_ℓ component, weighted by `cfg.extraWeights[name]`. */
export type RewardComponent = { readonly name: string; score(ctx: RewardContext): number };

export type ScoreOptions = { detector?: RefusalDetector; components?: readonly RewardComponent[] };

type Scored = { value: number; weight: number };

function componentScores(ctx: RewardContext, cfg: RewardConfig, custom: readonly RewardComponent[]): Map<string, Scored> {
  const out = new Map<string, Scored>();
  for (const name of COMPONENT_NAMES) out.set(name, { value: BUILTIN_PARTS[name](ctx.scenario, ctx.analysis), weight: cfg.weights[name] });
  for (const c of custom) {
    assert(!out.has(c.name), `reward component "${c.name}" is defined twice`);
    const weight = Object.hasOwn(cfg.extraWeights, c.name)
      ? cfg.extraWeights[c.name]
      : fail(`reward component "${c.name}" has no weight: add it to extraWeights`);
    const value = c.score(ctx);
    assert(Number.isFinite(value) && value >= 0 && value <= 1, `reward component "${c.name}" returned ${value}, expected a number in [0, 1]`);
    out.set(c.name, { value, weight });
  }
  for (const name of Object.keys(cfg.extraWeights)) assert(out.has(name), `extraWeights names "${name}" but no such component was given`);
  return out;
}

export function scoreEpisode(scenario: Scenario, transcript: Transcript, cfg: RewardConfig, opts: ScoreOptions = {}): RewardResult {
  const analysis = analyzeTranscript(scenario, transcript, opts.detector ?? ruleRefusalDetector);
  const scores = componentScores({ scenario, transcript, analysis }, cfg, opts.components ?? []);
  const rGen = transcript.finish === "stop" && analysis.isWellFormed ? 1 : 0;
  let sum = 0;
  let weights = 0;
  for (const { value, weight } of scores.values()) {
    sum += weight * value;
    weights += weight;
  }
  const gate = cfg.gates.reduce((g, name) => g * (scores.get(name)?.value ?? fail(`gate "${name}" is not a reward component`)), 1);
  const rL = weights > 0 ? gate * (sum / weights) : 0;
  const total = cfg.combine === "product" ? rGen * rL : cfg.genWeight * rGen + (1 - cfg.genWeight) * rL;
  const parts: Record<string, number> = { r_gen: rGen, r_l: rL };
  for (const [name, { value }] of scores) parts[name] = value;
  return { total, parts, behaviour: analysis.behaviour };
}
