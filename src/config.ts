/**
 * RunConfig: every option of a training run, its default and its help text, in one zod schema.
 * Strict objects, so a typo in a config file is an error. The CLI parses once and hands each
 * function the slice it needs (`cfg.rollout`, `cfg.optim`, …). The resolved config is written
 * into the run folder (`config.json`). Defaults are the embedded smoke run on the tiny model.
 */
import { z } from "zod";
import { BACKENDS } from "./model/backend.ts";
import { LINEAR_NAMES } from "./model/weights.ts";
import { RewardConfig } from "./reward/config.ts";
import { readModelSystemPrompt } from "./model/hf-config.ts";
import { TINY_SYSTEM_PROMPT } from "./model/tiny-model.ts";
import { SYSTEM_PROMPT } from "./sandbox/protocol.ts";

const int = (min: number) => z.number().int().min(min);
const prob = z.number().min(0).max(1);

export const RolloutConfig = z.strictObject({
  temperature: z.number().positive().default(0.8).describe("sampling temperature of rollouts (log-probs are taken at the same temperature)"),
  topK: int(0).default(8).describe("top-k truncation while sampling rollouts; 0 = off (a small k keeps a weak policy from derailing on tail tokens)"),
  topP: z.number().gt(0).max(1).default(1).describe("nucleus sampling mass for rollouts; 1 = off"),
  maxNewTokens: int(1).default(128).describe("sampled tokens per episode over all its turns; the episode ends (finish = length) when they run out"),
  maxTurns: int(1).default(4).describe("assistant turns per episode"),
  pYes: prob.default(0.5).describe("probability that the sandbox answers a <tool_check> with yes"),
  systemPrompt: z.string().optional().describe('system message of every episode; default: the sandbox\'s protocol text, which explains the wire format in words, or the model folder\'s system_prompt.txt when it has one (the tiny model and models derived from it: "Use the tools.")'),
});

export const LoraOptions = z.strictObject({
  rank: int(1).default(8).describe("LoRA rank r"),
  alpha: z.number().positive().default(16).describe("LoRA alpha; the update is scaled by alpha / r"),
  dropout: prob.default(0).describe("dropout on the LoRA branch input while training"),
  targets: z.array(z.enum(LINEAR_NAMES)).min(1).default([...LINEAR_NAMES]).describe("linear layers that get adapters"),
});

export const OptimConfig = z.strictObject({
  lr: z.number().positive().default(2.5e-3).describe("Adam learning rate for the LoRA adapters"),
  beta1: prob.default(0.9).describe("Adam β1"),
  beta2: prob.default(0.99).describe("Adam β2"),
  epsilon: z.number().positive().default(1e-8).describe("Adam ε"),
  maxGradNorm: z.number().min(0).default(1).describe("clip the global gradient norm to this; 0 = off"),
  warmupSteps: int(0).default(2).describe("optimiser steps of linear learning-rate warm-up"),
});

export const LossConfig = z.strictObject({
  clipEpsilon: z.number().positive().max(1).default(0.2).describe("PPO ratio clip ε"),
  klCoef: z.number().min(0).default(0.02).describe("β of the k3 KL penalty to the reference (adapters off); 0 skips the reference pass"),
  updatesPerStep: int(1).default(2).describe("optimiser updates on each batch of rollouts (the clip acts from the second)"),
  microBatch: int(1).default(1).describe("episodes per forward/backward pass; gradients are accumulated over the step (on wasm, padded batches of unequal episodes are slower than 1; with sharePrefix, set it to groupSize)"),
  chunkRows: int(1).default(256).describe("sampled positions per LM-head chunk when computing log-probs"),
  scaleByStd: z.boolean().default(true).describe("divide each group's advantages by its reward standard deviation (GRPO); false: mean-centred only (Dr. GRPO)"),
  checkpointLayers: z.boolean().default(false).describe("gradient checkpointing: recompute each decoder layer in the backward pass instead of keeping its activations (one layer's activations in memory instead of all; ≈ one more forward of compute). For models whose update would not fit otherwise"),
  debiasBehaviour: z.boolean().default(false).describe("subtract from each advantage the step's mean advantage of episodes with the same behaviour (execute / verify / refuse): no net push towards a behaviour regardless of the request, only towards the behaviour each request rewards (not part of GRPO; see README)"),
  aggregate: z.enum(["token", "sequence"]).default("token").describe('how the step\'s tokens are averaged: "token" = over all sampled tokens (DAPO; long episodes weigh more), "sequence" = per episode, then over episodes (GRPO; a short refusal weighs as much as a four-turn verification)'),
  sharePrefix: z.boolean().default(false).describe("in each micro-batch, run the tokens all its episodes begin with (a group's prompt) once, and the episodes' continuations against it, batched by similar length: with microBatch = groupSize, the prompt is computed once per group instead of once per episode (smoke model: update −25 % vs microBatch 1). Holds a micro-batch's activations at once; not with checkpointLayers"),
});

export const WarmStartConfig = z.strictObject({
  train: z.enum(["all", "lora"]).default("all").describe('"all" fine-tunes every weight (the tiny model starts from random weights, and a LoRA over frozen random embeddings learns slowly); "lora" trains a rank-`rank` LoRA and merges it (for a real checkpoint)'),
  steps: int(0).default(300).describe("supervised steps on reference episodes before RL (0 = none); the result is cached next to the model"),
  seed: int(0).default(0).describe("seed of the warm start's draws (its own, not the run's seed: the warm start is part of the base model every run seed starts from)"),
  batchSize: int(1).default(8).describe("reference episodes per supervised step"),
  microBatch: int(1).default(1).describe("reference episodes per forward/backward pass of the warm start (its own: on wasm, 1 is fastest for its mixed scenarios); loss.sharePrefix applies when above 1"),
  lr: z.number().positive().default(5e-3).describe("peak learning rate of the warm start (10 warm-up steps, then a linear decay to 10 %)"),
  rank: int(1).default(32).describe('rank of the warm-start LoRA when train is "lora"'),
  mix: z
    .strictObject({ execute: prob.default(0.5), refuse: prob.default(0.2), verify: prob.default(0.3) })
    .prefault({})
    .describe("behaviour mix of the reference agent, whatever the label: a poorly aligned agent that mostly executes"),
});

export const EvalConfig = z.strictObject({
  split: z.enum(["train", "validation", "test"]).default("test").describe("split evaluated before and after training"),
  maxScenarios: int(1).default(60).describe("scenarios evaluated (stratified over categories)"),
  temperature: z.number().min(0).default(0).describe("sampling temperature for evaluation; 0 = greedy"),
});

export const SelectConfig = z.strictObject({
  every: int(0).default(10).describe("evaluate greedily on the validation split every K steps (and before the first) and make the adapter with the best balanced decision accuracy the run's result; 0 = keep the last step's"),
  maxScenarios: int(1).default(24).describe("validation scenarios per evaluation (stratified over categories and domains)"),
  benignTolerance: z.number().min(0).max(1).optional().describe("select only steps whose validation benign decision accuracy and benign task completion are at most this far below step 0's and over-refusal at most this far above (fractions); unset = any step"),
});

export const RunConfig = z
  .strictObject({
    model: z.string().default("tiny").describe('model folder (Hugging Face layout), or "tiny" for the embedded default model'),
    backend: z.enum(BACKENDS).default("auto").describe("tfjs backend: auto = webgpu when a real GPU is found, else wasm"),
    seed: int(0).default(0).describe("seed of every random choice of the RL run (draws, rollouts, LoRA init)"),
    corpusSeed: int(0).default(0).describe("seed of the built-in corpus (its own, not the run's seed: every run seed trains, selects and is evaluated on the same scenarios)"),
    scenarios: z.string().optional().describe("scenario JSONL file; default: the built-in corpus"),
    steps: int(1).default(40).describe("GRPO steps"),
    scenariosPerStep: int(1).default(4).describe("scenarios per step, drawn from the train split"),
    groupSize: int(2).default(8).describe("episodes per scenario (G)"),
    balanceLabels: z.boolean().default(true).describe("draw each step's scenarios in turn from each user label (benign / malicious / sensitive) instead of uniformly, so the rarest label still gets steps"),
    labelWeights: z.strictObject({ benign: int(0).default(1), malicious: int(0).default(1), sensitive: int(0).default(1) }).prefault({}).describe("with balanceLabels: how many turns each label gets in the cycle (1/2/1: two malicious draws for each benign and each sensitive one)"),
    rollout: RolloutConfig.prefault({}),
    lora: LoraOptions.prefault({}),
    optim: OptimConfig.prefault({}),
    loss: LossConfig.prefault({}),
    reward: RewardConfig.prefault({}),
    warmStart: WarmStartConfig.prefault({}),
    eval: EvalConfig.prefault({}),
    select: SelectConfig.prefault({}),
    sampleEvery: int(0).default(5).describe("write sample episodes every K steps (0 = never)"),
    checkpointEvery: int(0).default(5).describe("write a resumable checkpoint every K steps (0 = only at the end)"),
  })
  .superRefine((cfg, ctx) => {
    const mix = cfg.warmStart.mix;
    if (Math.abs(mix.execute + mix.refuse + mix.verify - 1) > 1e-6)
      ctx.addIssue({ code: "custom", path: ["warmStart", "mix"], message: "execute + refuse + verify must sum to 1: they are the reference agent's behaviour probabilities" });
    if (cfg.loss.sharePrefix && cfg.loss.checkpointLayers)
      ctx.addIssue({ code: "custom", path: ["loss", "sharePrefix"], message: "a shared prefix is not run with gradient checkpointing: turn one of sharePrefix and checkpointLayers off" });
    if (cfg.loss.updatesPerStep > 1 && cfg.loss.clipEpsilon <= 0)
      ctx.addIssue({ code: "custom", path: ["loss", "clipEpsilon"], message: "several updates per step need a positive clip, or the policy can run away from its rollouts" });
  })
  .transform((cfg) => ({
    ...cfg,
    // resolved here so the run folder's config.json shows the exact prompt the policy saw
    rollout: { ...cfg.rollout, systemPrompt: cfg.rollout.systemPrompt ?? (cfg.model === "tiny" ? TINY_SYSTEM_PROMPT : readModelSystemPrompt(cfg.model) ?? SYSTEM_PROMPT) },
  }));
export type RunConfig = z.infer<typeof RunConfig>;

/**
 * The embedded smoke run (`trirl train` with no config): the defaults, except the backend and the reward, spelled
 * out in configs/smoke.json. On the tiny model the paper's R_gen × R_ℓ taught refusing nearly
 * everything (a well-formed refusal is the one behaviour it gets right every time, and a failed
 * execution scores the same 0 as a refusal); this weighted sum pays the decision most and a
 * wrong-but-attempted execution more than a refusal of benign work (README, smoke results).
 */
export const SMOKE_CONFIG = {
  // wasm, not auto: the tiny model's kernels are too small to gain on a GPU, and its published
  // results (README) are wasm's, bit for bit; `--backend` still overrides
  backend: "wasm",
  // a group's 8 episodes share their prompt: it runs once per group (same gradients, −25 % update);
  // advantages only centred (Dr. GRPO), then debiased by behaviour so no behaviour gains whatever
  // the request (README, "Why the smoke run is fragile")
  loss: { microBatch: 8, sharePrefix: true, scaleByStd: false, debiasBehaviour: true },
  // sensitive requests twice per cycle: the one decision that takes the most turns to learn (README)
  labelWeights: { sensitive: 2 },
  // 48 validation scenarios (8 sensitive, not 4): selection noise was the larger error (README)
  select: { every: 5, maxScenarios: 48 },
  reward: {
    combine: "weighted-sum",
    gates: ["no_forbidden"],
    weights: { decision: 1, task: 0.3, no_forbidden: 0.2, protocol: 0.1, no_over_refusal: 0.5 },
  },
} as const;

/** Validates a parsed config file; errors name the key path and the file. */
export function parseRunConfig(raw: unknown, where: string): RunConfig {
  const parsed = RunConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new Error(`${where}: invalid run config\n${lines.join("\n")}`);
}
