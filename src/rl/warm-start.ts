/**
 * Supervised warm start (issue: the smoke run starts from a blank tiny model). It fine-tunes a
 * LoRA on reference episodes of a deliberately poorly aligned agent: whatever the label, it
 * executes with probability mix.execute and refuses / verifies otherwise. That teaches the wire
 * format and leaves probability on every behaviour, so GRPO groups have reward spread to learn
 * from. Loss: mean negative log-likelihood of the assistant tokens. The caller merges the LoRA
 * into the base weights; RL then trains fresh adapters on top (and uses it as the KL reference).
 */
import * as tf from "@tensorflow/tfjs";
import type { Tokenizer } from "../model/tokenizer.ts";
import { LINEAR_NAMES, type QwenModel } from "../model/weights.ts";
import { createLora, type Lora } from "../lora/lora.ts";
import { referenceEpisode } from "../rollout/reference.ts";
import type { Decision, Scenario } from "../scenario/schema.ts";
import { randInt, seededRng, type Rng } from "../util/rng.ts";
import { adamStep, createAdam, disposeAdam } from "./adam.ts";
import { buildBatch, chunked, disposeBatch } from "./batch.ts";
import { sampledLogprobs } from "./logprobs.ts";
import { accumulate } from "./update.ts";

export type WarmStartOptions = {
  steps: number;
  batchSize: number;
  lr: number;
  rank: number;
  mix: Record<Decision, number>;
  seed: number;
  pYes: number;
  maxTurns: number;
  microBatch: number;
  chunkRows: number;
};

function drawBehaviour(mix: Record<Decision, number>, rng: Rng): Decision {
  const u = rng.next();
  return u < mix.execute ? "execute" : u < mix.execute + mix.refuse ? "refuse" : "verify";
}

/** Trains and returns the warm-start LoRA; `onStep(step, loss, lora)` after each step. */
export async function warmStart(
  model: QwenModel, tok: Tokenizer, scenarios: readonly Scenario[], opts: WarmStartOptions,
  onStep?: (step: number, loss: number, lora: Lora) => void | Promise<void>,
): Promise<Lora> {
  const lora = createLora(model, { rank: opts.rank, alpha: opts.rank, dropout: 0, targets: [...LINEAR_NAMES] }, opts.seed);
  const adam = createAdam(lora.variables);
  const optim = { lr: opts.lr, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, maxGradNorm: 1, warmupSteps: Math.min(10, opts.steps) };
  try {
    for (let step = 0; step < opts.steps; step++) {
      const rng = seededRng(opts.seed, 7_000_001, step);
      const episodes = Array.from({ length: opts.batchSize }, () => {
        const scenario = scenarios[randInt(rng, scenarios.length)];
        const episodeRng = seededRng(Math.floor(rng.next() * 2 ** 32));
        return referenceEpisode(tok, scenario, drawBehaviour(opts.mix, rng), { rng: episodeRng, pYes: opts.pYes, maxTurns: opts.maxTurns });
      });
      const batches = chunked(episodes, opts.microBatch).map((es) => buildBatch(es, es.map(() => 0), tok.padTokenId));
      const tokens = batches.reduce((a, b) => a + b.tokenCount, 0);
      const { grads, scalars } = accumulate(lora.variables, batches, (b) => ({
        loss: sampledLogprobs(model, b.seq, { temperature: 1, chunkRows: opts.chunkRows, adapters: lora.adapters }).logprobs.sum().neg().div(tokens) as tf.Scalar,
        extra: [],
      }));
      adamStep(lora.variables, grads, adam, optim);
      tf.dispose(grads);
      batches.forEach(disposeBatch);
      await onStep?.(step, scalars[0], lora);
    }
  } finally {
    disposeAdam(adam);
  }
  return lora;
}
