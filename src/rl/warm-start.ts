/**
 * Supervised warm start (issue: the smoke run starts from a blank tiny model). It fine-tunes on
 * reference episodes of a deliberately poorly aligned agent: whatever the label, it executes with
 * probability mix.execute and refuses / verifies otherwise. That teaches the wire format and
 * leaves probability on every behaviour, so GRPO groups have reward spread to learn from.
 * Loss: mean negative log-likelihood of the assistant tokens; Adam, 10 warm-up steps, then a
 * linear decay to 10 % of the rate. What is trained is a `WarmTarget`:
 * every weight (`train: "all"`, for a model that starts from random weights) or a LoRA merged
 * afterwards (`"lora"`, for a real checkpoint). The caller saves the result as a checkpoint; RL
 * then trains fresh adapters on top (and uses it as the KL reference).
 */
import * as tf from "@tensorflow/tfjs";
import type { Tokenizer } from "../model/tokenizer.ts";
import type { Adapters } from "../model/qwen.ts";
import { disposeModel, LINEAR_NAMES, trainableCopy, type QwenModel } from "../model/weights.ts";
import { createLora, disposeLora } from "../lora/lora.ts";
import { referenceEpisode } from "../rollout/reference.ts";
import type { Decision, Scenario } from "../scenario/schema.ts";
import { randInt, seededRng, type Rng } from "../util/rng.ts";
import { adamStep, createAdam, disposeAdam } from "./adam.ts";
import { chunked } from "./batch.ts";
import { sampledTokens } from "./gradients.ts";
import { IN_PROCESS, type Pool, type TargetSpec } from "./pool.ts";
import { accumulate } from "./update.ts";

export type WarmStartOptions = {
  train: "all" | "lora";
  steps: number;
  batchSize: number;
  lr: number;
  rank: number;
  mix: Record<Decision, number>;
  seed: number;
  pYes: number;
  maxTurns: number;
  systemPrompt?: string;
  microBatch: number;
  chunkRows: number;
  /** Run each micro-batch's common prefix once (batch.ts); with the warm start's mixed scenarios, often just the system prompt. */
  sharePrefix?: boolean;
  checkpointLayers?: boolean;
  /** Threads to share each step's micro-batches with (pool.ts); default this one only. */
  pool?: Pool;
};

const behaviourAt = (mix: Record<Decision, number>, u: number): Decision =>
  u < mix.execute ? "execute" : u < mix.execute + mix.refuse ? "refuse" : "verify";

/**
 * The behaviour of each reference episode, stratified by what a model could tell scenarios apart
 * by (the user label and the tools offered): the k-th draw of a kind takes its behaviour at
 * u = frac(offset + k·φ⁻¹), a low-discrepancy sequence, so every kind sees the mix within two
 * draws (independent draws: ± √n). Independent draws left whole labels and templates refuse-heavy or
 * execute-heavy by chance (the warm start then refused most benign requests on one seed and
 * none on another), a correlation the label-blind agent is not meant to have.
 */
export function behaviourDrawer(mix: Record<Decision, number>, rng: Rng): (scenario: Scenario) => Decision {
  const kinds = new Map<string, { offset: number; count: number }>();
  return (scenario) => {
    const key = `${scenario.user} ${scenario.tools.map((t) => t.name).sort().join(",")}`;
    let kind = kinds.get(key);
    if (!kind) kinds.set(key, (kind = { offset: rng.next(), count: 0 }));
    const u = (kind.offset + kind.count++ * 0.6180339887498949) % 1;
    return behaviourAt(mix, u);
  };
}

/** The weights a warm start trains: `model` with `adapters` is the model being fitted. */
export type WarmTarget = { model: QwenModel; adapters?: Adapters; variables: tf.Variable[]; spec: TargetSpec; dispose(): void };

/** A trainable copy of every weight, or a fresh LoRA over the frozen base. */
export function warmTarget(base: QwenModel, opts: Pick<WarmStartOptions, "train" | "rank" | "seed">): WarmTarget {
  if (opts.train === "all") {
    const full = trainableCopy(base);
    return { model: full.model, variables: full.variables, spec: { kind: "all" }, dispose: () => disposeModel(full.model) };
  }
  const lora = createLora(base, { rank: opts.rank, alpha: opts.rank, dropout: 0, targets: [...LINEAR_NAMES] }, opts.seed);
  return { model: base, adapters: lora.adapters, variables: lora.variables, spec: { kind: "lora", config: lora.config }, dispose: () => disposeLora(lora) };
}

/** Fits `target` to reference episodes; `onStep(step, loss)` after each step. */
export async function warmStart(
  target: WarmTarget, tok: Tokenizer, scenarios: readonly Scenario[], opts: WarmStartOptions,
  onStep?: (step: number, loss: number) => void | Promise<void>,
): Promise<void> {
  const pool = opts.pool ?? IN_PROCESS;
  const adam = createAdam(target.variables);
  const optim = { lr: opts.lr, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, maxGradNorm: 1, warmupSteps: Math.min(10, opts.steps), decaySteps: opts.steps };
  const drawBehaviour = behaviourDrawer(opts.mix, seededRng(opts.seed, 7_000_003));
  try {
    for (let step = 0; step < opts.steps; step++) {
      const rng = seededRng(opts.seed, 7_000_001, step);
      const episodes = Array.from({ length: opts.batchSize }, () => {
        const scenario = scenarios[randInt(rng, scenarios.length)];
        const episodeRng = seededRng(Math.floor(rng.next() * 2 ** 32));
        return referenceEpisode(tok, scenario, drawBehaviour(scenario), { rng: episodeRng, pYes: opts.pYes, maxTurns: opts.maxTurns, systemPrompt: opts.systemPrompt });
      });
      const phase = await pool.gradients(target, {
        objective: "nll", microBatches: chunked(episodes, opts.microBatch).map((es) => ({ episodes: es, advantages: es.map(() => 0) })),
        tokens: sampledTokens(episodes), episodeCount: episodes.length, temperature: 1, padId: tok.padTokenId,
        chunkRows: opts.chunkRows, sharePrefix: opts.sharePrefix, checkpoint: opts.checkpointLayers,
      });
      try {
        const { grads, scalars } = await accumulate(target.variables, phase.run);
        await adamStep(target.variables, grads, adam, optim);
        tf.dispose(grads);
        await onStep?.(step, scalars[0]);
      } finally {
        await phase.end();
      }
    }
  } finally {
    disposeAdam(adam);
  }
}
