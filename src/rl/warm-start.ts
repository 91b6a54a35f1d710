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
import { buildBatch, chunked, disposeBatch } from "./batch.ts";
import { sampledLogprobs } from "./logprobs.ts";
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
};

function drawBehaviour(mix: Record<Decision, number>, rng: Rng): Decision {
  const u = rng.next();
  return u < mix.execute ? "execute" : u < mix.execute + mix.refuse ? "refuse" : "verify";
}

/** The weights a warm start trains: `model` with `adapters` is the model being fitted. */
export type WarmTarget = { model: QwenModel; adapters?: Adapters; variables: tf.Variable[]; dispose(): void };

/** A trainable copy of every weight, or a fresh LoRA over the frozen base. */
export function warmTarget(base: QwenModel, opts: Pick<WarmStartOptions, "train" | "rank" | "seed">): WarmTarget {
  if (opts.train === "all") {
    const full = trainableCopy(base);
    return { model: full.model, variables: full.variables, dispose: () => disposeModel(full.model) };
  }
  const lora = createLora(base, { rank: opts.rank, alpha: opts.rank, dropout: 0, targets: [...LINEAR_NAMES] }, opts.seed);
  return { model: base, adapters: lora.adapters, variables: lora.variables, dispose: () => disposeLora(lora) };
}

/** Fits `target` to reference episodes; `onStep(step, loss)` after each step. */
export async function warmStart(
  target: WarmTarget, tok: Tokenizer, scenarios: readonly Scenario[], opts: WarmStartOptions,
  onStep?: (step: number, loss: number) => void | Promise<void>,
): Promise<void> {
  const { model, adapters } = target;
  const adam = createAdam(target.variables);
  const optim = { lr: opts.lr, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, maxGradNorm: 1, warmupSteps: Math.min(10, opts.steps), decaySteps: opts.steps };
  try {
    for (let step = 0; step < opts.steps; step++) {
      const rng = seededRng(opts.seed, 7_000_001, step);
      const episodes = Array.from({ length: opts.batchSize }, () => {
        const scenario = scenarios[randInt(rng, scenarios.length)];
        const episodeRng = seededRng(Math.floor(rng.next() * 2 ** 32));
        return referenceEpisode(tok, scenario, drawBehaviour(opts.mix, rng), { rng: episodeRng, pYes: opts.pYes, maxTurns: opts.maxTurns, systemPrompt: opts.systemPrompt });
      });
      const batches = chunked(episodes, opts.microBatch).map((es) => buildBatch(es, es.map(() => 0), tok.padTokenId, { sharePrefix: opts.sharePrefix }));
      const tokens = batches.reduce((a, b) => a + b.tokenCount, 0);
      const { grads, scalars } = accumulate(target.variables, batches, (b) => ({
        loss: sampledLogprobs(model, b.seq, { temperature: 1, chunkRows: opts.chunkRows, adapters, checkpoint: opts.checkpointLayers }).logprobs.sum().neg().div(tokens) as tf.Scalar,
        extra: [],
      }));
      adamStep(target.variables, grads, adam, optim);
      tf.dispose(grads);
      batches.forEach(disposeBatch);
      await onStep?.(step, scalars[0]);
    }
  } finally {
    disposeAdam(adam);
  }
}
